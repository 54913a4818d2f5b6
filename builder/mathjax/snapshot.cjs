// V8 startup snapshot of the MathJax checker: node starts with MathJax's ~300 modules already
// evaluated and the checker configured (speedups, TeX input with its packages, CommonHTML output,
// safety wall), instead of doing all that on every start (~0.15 s of CPU even from the code cache).
//
//   node FLAGS --snapshot-blob BLOB --build-snapshot snapshot.cjs     (MATHDECK_NODE_ROOT set)
//   node FLAGS --snapshot-blob BLOB check.mjs --stream | --names | (batch)   runs check.mjs's main
//
// mathdeck (builder/mathjax_snapshot.py, FLAGS its V8_FLAGS) builds the blob once per node, MathJax and checker code,
// keeps it in the per-user cache and runs node with it only when its SHA-256 matches.
//
// A snapshot's entry script may require node's built-in modules only: no user-land CommonJS and
// no ES modules (import() is "Not supported"). So this file loads both itself, from their source:
//   - mathjax-full's CommonJS files: the usual wrapper function over each file's text, with a
//     `require` that resolves relative paths and package paths under ROOT/node_modules;
//   - check.mjs and its helpers (ES modules): their `import`/`export` lines rewritten into that
//     same wrapper (a small, strict rewrite: any other module syntax fails the build, and
//     mathdeck then runs node without a snapshot).
// Only this loader differs; the checker is our own code (checker.mjs's makeChecker, check.mjs's runMain).

'use strict';

const { readFileSync, statSync } = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const v8 = require('node:v8');

const HERE = __dirname;
const ROOT = process.env.MATHDECK_NODE_ROOT || path.resolve(HERE, '..', '..');
const loaded = new Map(); // filename -> module.exports: each file evaluated once, as node does

// The function a module's text becomes. `//# sourceURL` keeps its name in stack traces.
function compile(parameters, text, filename) {
  return new Function(...parameters, `${text}\n//# sourceURL=${pathToFileURL(filename).href}`);
}

function requireFrom(directory) {
  const isBuiltin = (request) => request.startsWith('node:') || !/^[./]|\//.test(request);
  const resolve = (request) => {
    const base = /^\.{1,2}\//.test(request) ? directory : path.join(ROOT, 'node_modules');
    const filename = path.resolve(base, request);
    statSync(filename); // throws when absent, as require.resolve does
    return filename;
  };
  const required = (request) => (isBuiltin(request) ? require(request) : loadCommonJs(resolve(request)));
  required.resolve = resolve;
  return required;
}

function loadCommonJs(filename) {
  if (loaded.has(filename)) return loaded.get(filename);
  const module = { exports: {}, filename };
  loaded.set(filename, module.exports); // a cycle sees the exports so far, as in node
  const body = compile(['exports', 'require', 'module', '__filename', '__dirname'], readFileSync(filename, 'utf8'), filename);
  body.call(module.exports, module.exports, requireFrom(path.dirname(filename)), module, filename, path.dirname(filename));
  loaded.set(filename, module.exports);
  return module.exports;
}

// What our ES modules import, besides each other and the built-ins that keep no state of the
// process: MathJax comes through this loader, and worker_threads is loaded when a process
// started from the snapshot first uses it. Loaded into the snapshot it is "not yet fully
// verified" (node's warning), and indeed a Worker made there fails in its first
// process.cwd() (its shared cwd counter is lost with the snapshot).
const SHIMS = {
  'node:module': { createRequire: (file) => requireFrom(path.dirname(file)) },
  './codecache.mjs': { withCodeCache: (load) => load() }, // the snapshot is the cache
  'node:worker_threads': {
    isMainThread: true, // the snapshot is taken, and started, on the main thread
    parentPort: null,
    workerData: null,
    Worker: function Worker(...args) {
      return new (require('node:worker_threads').Worker)(...args);
    },
  },
};

const IMPORT = /^import\s+(?:\{([^}]*)\}|(\w+))\s+from\s+'([^']+)';$/gm;
const EXPORT = /^export\s+((?:async\s+)?function\*?|const|let|class)\s+(\w+)/gm;

function loadEsModule(filename) {
  if (loaded.has(filename)) return loaded.get(filename);
  const exported = [];
  const text = readFileSync(filename, 'utf8')
    .replace(IMPORT, (_, names, single, from) => {
      const source = `__import(${JSON.stringify(from)})`;
      if (single) return `const ${single} = ${source}.default;`;
      return `const {${names.replace(/\s+as\s+/g, ': ')}} = ${source};`;
    })
    .replace(EXPORT, (_, kind, name) => {
      exported.push(name);
      return `${kind} ${name}`;
    })
    .replace(/\bimport\.meta\b/g, '__meta');
  const body = compile(['__import', '__meta'], `${text}\nreturn { ${exported.join(', ')} };`, filename);
  const importer = (request) => {
    if (SHIMS[request]) return SHIMS[request];
    if (request.startsWith('./')) return loadEsModule(path.join(path.dirname(filename), request));
    const builtin = require(request);
    return { default: builtin, ...builtin };
  };
  // `snapshot`: check.mjs leaves its main to us (see runMain there).
  const exports = body(importer, { url: pathToFileURL(filename).href, snapshot: true });
  loaded.set(filename, exports);
  return exports;
}

const check = loadEsModule(path.join(HERE, 'check.mjs'));
const checkerModule = loadEsModule(path.join(HERE, 'checker.mjs'));
const settings = {}; // the deck's policy and the bound's limit come with each run's environment, not the build's
const checker = checkerModule.makeChecker(settings);
// A few formulas through every stage, so the start-up work MathJax defers to the first formula
// (font data, wrapper classes, the code V8 compiles on first call) is in the snapshot too. The
// checker forgets each formula after checking it, as it does between the formulas of a batch.
for (const [tex, display] of [['\\frac{a}{b} + \\sum_{i=1}^n x_i^2', true], ['\\text{if } e^{x} > 0', false],
  ['\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}', true], ['\\frac{a}', false], ['\\undefinedmacro', false]]) {
  checker(tex, display);
}

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // The speedups are in the snapshot: MathJax as shipped (MATHDECK_MATHJAX_PLAIN) is run without it.
  if (process.env.MATHDECK_MATHJAX_PLAIN) {
    process.stderr.write('check.mjs: MATHDECK_MATHJAX_PLAIN cannot use the startup snapshot\n');
    process.exit(1);
  }
  Object.assign(settings, checkerModule.settingsFromEnvironment());
  check.runMain(checker);
});
