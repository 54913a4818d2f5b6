// Strict MathJax 3 TeX checker: the TeX input Anki runs, minus the packages that hide errors.
//
//   stdin:  [{"tex": "\\frac{a}{b}", "display": true}, ...]
//   stdout: [{"error": null | "MathJax's error message", "width": ems | null}, ...]   (same order)
//
// `width` is the typeset formula's width in ems of the surrounding font, as MathJax's CommonHTML
// output lays it out (its own font metrics; text in \text{} estimated at 0.6 em a character):
// the phone budget (check_math.py) compares it with the card's width. null when it has an error.
//
// With --stream, batches are checked as they arrive, so node works while mathdeck goes on:
//   stdin:  one JSON list as above per line
//   stdout: one line per batch, {"batch": <its number, from 0>, "verdicts": [...]}, in the order
//           the batches finish
//
// With --names, it prints the names the checker's TeX input knows, for did-you-mean suggestions
// on an undefined macro or environment (check_math.py asks once and caches the answer):
//   stdout: {"macros": ["alpha", "mathbb", ...], "environments": ["aligned", ...]}
//
// Exit codes: 0 ok, 2 bad input, 3 mathjax-full is not installed (run `npm ci`).
//
// Anki (ts/mathjax/index.ts + tex-chtml-full.js) runs 'require' plus MathJax's AllPackages,
// adds noerrors and mathtools (already in AllPackages) and removes textmacros. We drop
// noerrors (it turns parse errors into the red-on-yellow source) and noundefined (it turns an
// undefined macro into its red name) so both become errors here, and we leave out 'require'
// (it needs MathJax's component loader; on a card \require can stop every formula rendering
// or load the html package: safety.mjs refuses it by name).
//
// Every formula also passes the safety wall (safety.mjs): no link, style, class, id or URL may
// reach a card. Its errors start with "unsafe TeX: ". MATHDECK_TEX_LINKS=https
// (deck.yaml `tex_links: https`) lets \href link to https: addresses.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { loadMathJax, requireMathJaxInstalled } from './modules.mjs';
import { makeSafetyCheck, policyFromEnvironment } from './safety.mjs';
import { speedUpMathJax } from './speedups.mjs';


const LEFT_OUT = new Set([
  'textmacros', // Anki removes it: see literalMacroInText
  'noerrors', // hides parse errors
  'noundefined', // hides undefined macros
]);

function checkedPackages(mj) {
  return mj.AllPackages.filter((name) => !LEFT_OUT.has(name));
}

// Every name in the TeX input's macro (\alpha, \mathbb, ...) and environment (aligned, ...) maps.
function knownNames() {
  const mj = loadMathJax();
  mj.RegisterHTMLHandler(mj.liteAdaptor());
  const tex = new mj.TeX({ packages: checkedPackages(mj) });
  mj.mathjax.document('', { InputJax: tex }); // configures the packages' maps
  const names = (kind) => {
    const found = new Set();
    for (const { item } of tex.parseOptions.handlers.get(kind)._configuration) {
      if (item.map) for (const name of item.map.keys()) found.add(name);
    }
    return [...found].sort();
  };
  return { macros: names('macro'), environments: names('environment') };
}

// `policy`: the deck's safety policy; the startup snapshot (snapshot.cjs) fills it in at each run.
export function makeChecker(policy = policyFromEnvironment()) {
  const mj = loadMathJax();
  // Same answers, up to half the CPU (speedups.mjs); MATHDECK_MATHJAX_PLAIN=1 runs MathJax as shipped,
  // for the test that compares the two.
  if (!process.env.MATHDECK_MATHJAX_PLAIN) speedUpMathJax(); // before the TeX input and the output jax exist
  mj.RegisterHTMLHandler(mj.liteAdaptor());
  const packages = checkedPackages(mj);
  let lastError = null;
  const tex = new mj.TeX({
    packages,
    // Anki's other TeX options (delimiters, processEscapes/Environments/Refs) only matter
    // when finding math in a page; we are handed the TeX between the delimiters.
    formatError(jax, err) {
      lastError = err;
      return jax.formatError(err);
    },
  });
  // The post-filters (cleanSubSup, moveLimits, combineRelations, ...) finish the MathML that the
  // output measures: without them a subscript has no layout and widths are wrong.
  // Anki's output is CommonHTML; bussproofs' pre-filter refuses to run without an output jax.
  const doc = mj.mathjax.document('', { InputJax: tex, OutputJax: new mj.CHTML() });
  // \newcommand, \def, \let, \DeclareMathOperator ... store definitions in these maps for
  // the life of the TeX input; clear them so each formula is checked on its own (a learner's
  // Anki may show the card that uses a macro before the card that defines it).
  const definitionMaps = ['new-Command', 'new-Environment', 'new-Delimiter', 'ams-declare-ops',
    'mathtools-paired-delims']
    .map((name) => tex.parseOptions.handlers.retrieve(name))
    .filter(Boolean);
  if (definitionMaps.length !== 5) throw new Error('newcommand definition maps not found');
  const safety = makeSafetyCheck(tex, policy);

  const output = doc.outputJax;
  const failed = (error) => ({ error, width: null });
  // The width of a formula that parsed. MathJax's layout needs a browser to measure characters its
  // fonts lack (\unicode{8364} throws here): such a formula is fine, just not measured (null).
  const measure = (math) => {
    try {
      return output.getBBox(math, doc).w;
    } catch (err) {
      if (err instanceof RangeError) throw err;
      return null;
    }
  };

  return function check(texString, display) {
    lastError = null;
    const refused = safety.beforeParse(texString);
    if (refused) return failed(refused);
    // What doc.convert() does, keeping the MathItem: the output jax measures its compiled tree.
    const math = new doc.options.MathItem(texString, tex, display);
    let width = null;
    let unsafe = null;
    try {
      math.setMetrics(16, 8, 1e6, 1e6, 1);
      math.convert(doc, mj.STATE.COMPILED);
      // Judged before it is measured: an unsafe formula is refused for that, whatever else.
      unsafe = lastError ? null : safety.afterParse(texString, math.root);
      if (!lastError && !unsafe) width = measure(math);
    } catch (err) {
      return failed(`MathJax internal error: ${err && err.message ? err.message : String(err)}`);
    } finally {
      tex.reset();
      for (const map of definitionMaps) map.map.clear();
    }
    // MathJax's own formatError keeps only the first line of a message.
    if (lastError) return failed(lastError.message.replace(/\n.*/s, ''));
    if (unsafe) return failed(unsafe);
    let macro;
    try {
      macro = literalMacroInText(math.root);
    } catch (err) {
      // A formula nested thousands deep overflows the tree walk's stack: an error of that formula.
      if (err instanceof RangeError) return failed('the formula is nested too deeply (MathJax ran out of stack)');
      throw err;
    }
    if (macro) return failed(`${macro} inside \\text{} shows as literal text (Anki's MathJax has no textmacros)`);
    return { error: null, width: width === null ? null : Math.round(width * 1000) / 1000 };
  };
}

// Without textmacros, text mode (\text, \textbf, \mbox, ...) understands only $..$, \(..\),
// \$, \{, \}, \\ and \ref: any other macro in it reaches the card as its literal name.
// \verb and \texttt (monospace) show backslashes on purpose.
function literalMacroInText(root) {
  let found = null;
  root.walkTree((node) => {
    if (found || !node.isKind('mtext')) return;
    if (node.attributes.get('mathvariant') === 'monospace') return;
    const match = node.getText().match(/\\[A-Za-z]+/);
    if (match) found = match[0];
  });
  return found;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function parseItems(text) {
  const items = JSON.parse(text);
  if (!Array.isArray(items)) throw new Error('expected a JSON list');
  items.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || typeof item.tex !== 'string') {
      throw new Error(`item ${i}: expected {"tex": string, "display": bool}`);
    }
  });
  return items;
}

// MathJax parses about 1,000-3,000 formulas a second on one core, so a large batch is split
// across this process's main thread and worker threads (each builds its own TeX input once).
const FORMULAS_PER_THREAD = 2000;

function checkAll(items, check = makeChecker()) {
  return items.map((item) => check(item.tex, Boolean(item.display)));
}

function checkInWorker(items) {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: items });
    worker.once('message', resolvePromise);
    worker.once('error', reject);
  });
}

async function checkInParallel(items, ready) {
  const threads = Math.min(availableParallelism(), Math.ceil(items.length / FORMULAS_PER_THREAD));
  const size = Math.ceil(items.length / Math.max(threads, 1));
  const chunks = Array.from({ length: threads }, (_, t) => items.slice(t * size, (t + 1) * size));
  const [own, ...others] = chunks;
  const pending = others.map(checkInWorker);
  const ownResults = own ? checkAll(own, ready) : [];
  return ownResults.concat(...(await Promise.all(pending)));
}

// Worker threads, each with one TeX input for the whole stream, take batches one at a time;
// the main thread only reads, queues and writes. While batches still come, one core is left to
// mathdeck (it is reading and rendering the rest of the deck); once the input ends, a backlog
// gets a worker on every core.
const BACKLOG_FOR_ALL_CORES = 1000; // formulas: below this, starting another worker costs more

async function streamMain(ready) {
  requireMathJaxInstalled();
  const url = fileURLToPath(import.meta.url);
  const queue = []; // {batch, items} not handed out yet
  const workers = [];
  let reading = true;
  let unanswered = 0;

  const dispatch = () => {
    for (const worker of workers) {
      if (!worker.busy && queue.length) {
        worker.busy = true;
        worker.thread.postMessage(queue.shift());
      }
    }
    if (!reading && unanswered === 0) workers.forEach((worker) => worker.thread.terminate());
  };
  const answered = (worker, message) => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
    worker.busy = false;
    unanswered -= 1;
    dispatch();
  };
  // A checker made before this process started (the startup snapshot's) answers on this thread,
  // in place of the first worker: no thread to start, no MathJax to load.
  if (ready) {
    const here = { busy: false };
    here.thread = {
      postMessage: ({ batch, items }) => checkInSlices(items, ready).then((verdicts) => answered(here, { batch, verdicts })),
      terminate: () => {},
    };
    workers.push(here);
  }
  const addWorker = () => {
    const worker = { thread: new Worker(url, { workerData: { stream: true } }), busy: false };
    worker.thread.on('message', (message) => answered(worker, message));
    worker.thread.on('error', (err) => {
      process.stderr.write(`check.mjs: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    });
    workers.push(worker);
  };

  if (!ready) addWorker();
  while (workers.length < availableParallelism() - 1) addWorker();
  let batch = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    let items;
    try {
      items = parseItems(line);
    } catch (err) {
      process.stderr.write(`check.mjs: bad input: ${err.message}\n`);
      process.exit(2);
    }
    queue.push({ batch, items });
    batch += 1;
    unanswered += 1;
    dispatch();
  }
  reading = false;
  const backlog = queue.reduce((total, waiting) => total + waiting.items.length, 0);
  if (backlog >= BACKLOG_FOR_ALL_CORES) {
    while (workers.length < availableParallelism()) addWorker();
  }
  dispatch();
}

// On the thread that reads stdin, a batch is checked a slice at a time with stdin read in between
// (setImmediate lets the event loop poll): mathdeck's writes never wait on a long batch.
const FORMULAS_PER_SLICE = 50;

function checkInSlices(items, check) {
  return new Promise((resolvePromise) => {
    const verdicts = [];
    const next = () => {
      for (const item of items.slice(verdicts.length, verdicts.length + FORMULAS_PER_SLICE)) {
        verdicts.push(check(item.tex, Boolean(item.display)));
      }
      if (verdicts.length < items.length) setImmediate(next);
      else resolvePromise(verdicts);
    };
    setImmediate(next);
  });
}

function streamWorker() {
  const check = makeChecker();
  parentPort.on('message', ({ batch, items }) => {
    parentPort.postMessage({ batch, verdicts: items.map((item) => check(item.tex, Boolean(item.display))) });
  });
}

async function main(ready) {
  let items;
  try {
    items = parseItems(await readStdin());
  } catch (err) {
    process.stderr.write(`check.mjs: bad input: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  requireMathJaxInstalled();
  process.stdout.write(JSON.stringify(await checkInParallel(items, ready)));
}

// What this process does, by its arguments; `ready` is a checker made before it started.
export function runMain(ready) {
  if (process.argv.includes('--names')) process.stdout.write(JSON.stringify(knownNames()));
  else if (process.argv.includes('--stream')) streamMain(ready);
  else main(ready);
}

// import.meta.snapshot: snapshot.cjs is loading this file into a startup snapshot, and runs
// runMain itself in each process started from it.
if (isMainThread) {
  if (!import.meta.snapshot) runMain();
} else if (workerData && workerData.stream) {
  streamWorker();
} else {
  parentPort.postMessage(checkAll(workerData));
}
