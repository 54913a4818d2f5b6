// V8's code cache for MathJax's own modules: node compiles ~300 files of mathjax-full every time
// it starts, about two thirds of a check process's start-up (~250 ms of CPU). Compiled once, the
// code is kept in one file and handed back to V8 on the next start: a third less CPU for every
// node process and worker thread that loads MathJax (an edit's one new formula waits for that).
//
// Where: MATHDECK_NODE_CODE_CACHE (a folder; "0" turns the cache off), by default the user's
// cache folder ($XDG_CACHE_HOME/mathdeck or ~/.cache/mathdeck: the user's own, where a shared or
// read-only node_modules is not). One file per node version and architecture; an entry is found by the SHA-256 of the module's source (V8 itself only compares
// the source's length), and the file carries a SHA-256 of its data, checked on every read: a
// damaged or foreign file is ignored and rewritten, never run. Nothing here changes what MathJax
// computes (tests/test_mathjax.py compares verdicts with and without the cache).

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { threadId } from 'node:worker_threads';
import vm from 'node:vm';

const FORMAT = 'mathdeck-v8-code-cache-1';
const CACHED = `${sep}mathjax-full${sep}`;

// Runs load() (which requires MathJax's modules) with their compiled code taken from and added
// to the cache; returns what load() returns.
export function withCodeCache(load) {
  const setting = process.env.MATHDECK_NODE_CODE_CACHE;
  if (setting === '0') return load();
  const folder = setting || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mathdeck');
  const file = join(folder, `mathjax-${process.version}-${process.arch}.bin`);
  const known = readCache(file);
  const used = new Map(); // digest -> cached data that V8 accepted
  const compiled = []; // [digest, vm.Script] compiled without usable cached data
  const original = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename) {
    if (!filename.includes(CACHED)) return original.call(this, content, filename);
    const digest = createHash('sha256').update(content).digest('base64');
    const cachedData = known.get(digest);
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData && !script.cachedDataRejected) used.set(digest, cachedData);
    else compiled.push([digest, script]);
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, dirname(filename));
  };
  try {
    return load();
  } finally {
    Module.prototype._compile = original;
    if (compiled.length) {
      for (const [digest, script] of compiled) used.set(digest, script.createCachedData());
      writeCache(file, used);
    }
  }
}

// The `require` a CommonJS module gets (what MathJax's modules use of it).
function requireFor(module) {
  const require = (id) => module.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  require.cache = Module._cache;
  require.main = process.mainModule;
  return require;
}

// File: one JSON line {format, data: sha256 of the rest, entries: [[digest, length], ...]}, then the data.
function readCache(file) {
  const entries = new Map();
  try {
    const bytes = readFileSync(file);
    const newline = bytes.indexOf(10);
    const header = JSON.parse(bytes.subarray(0, newline).toString('utf8'));
    const data = bytes.subarray(newline + 1);
    if (header.format !== FORMAT || createHash('sha256').update(data).digest('base64') !== header.data) return entries;
    let offset = 0;
    for (const [digest, length] of header.entries) {
      entries.set(digest, data.subarray(offset, offset + length));
      offset += length;
    }
    if (offset !== data.length) entries.clear();
  } catch {
    entries.clear(); // absent, unreadable or malformed: compile as usual
  }
  return entries;
}

function writeCache(file, entries) {
  const data = Buffer.concat([...entries.values()]);
  const header = {
    format: FORMAT,
    data: createHash('sha256').update(data).digest('base64'),
    entries: [...entries].map(([digest, cached]) => [digest, cached.length]),
  };
  const temporary = `${file}.${process.pid}-${threadId}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temporary, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]));
    renameSync(temporary, file); // atomic: a reader sees the old file or the new one
  } catch {
    // a read-only or full disk, a file where the folder should be: the cache only saves time
    try {
      rmSync(temporary, { force: true });
    } catch {
      // nothing was made (the folder could not be): nothing to remove
    }
  }
}
