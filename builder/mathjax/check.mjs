// Strict MathJax 3 TeX checker: the TeX input Anki runs, minus the packages that hide errors.
//
//   stdin:  [{"tex": "\\frac{a}{b}", "display": true}, ...]
//   stdout: [{"error": null | "MathJax's error message", "width": ems | null}, ...]   (same order)
//
// `width` is the typeset formula's width in ems of the surrounding font, as MathJax's CommonHTML
// output lays it out (its own font metrics; text in \text{} estimated at 0.6 em a character):
// the phone budget (check_math.py) compares it with the card's width. null when it has an error.
// With MATHDECK_WIDTH_BOUND_LIMIT_EM set, a formula whose upper bound (widthbound.mjs) is at most
// that many ems is not laid out: its `width` is the bound, and `"bound": true` says so.
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

import { checkedPackages, makeChecker } from './checker.mjs';
import { loadMathJax, requireMathJaxInstalled } from './modules.mjs';


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
