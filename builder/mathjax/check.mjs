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
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { checkedPackages, makeChecker } from './checker.mjs';
import { loadMathJax, requireMathJaxInstalled } from './modules.mjs';
import { answerPieces, BACKLOG_FOR_ANOTHER_THREAD, CheckPool } from './pool.mjs';


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

// stdin's lines as they come. readline would split them, but loading it is six more of node's
// modules compiled at every start, for lines that are JSON (a stray \r is JSON's whitespace).
async function* stdinLines() {
  let rest = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    if (!chunk.includes('\n')) {
      rest += chunk; // a long line: split once it ends, not once per chunk
      continue;
    }
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    yield* lines;
  }
  if (rest) yield rest;
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

// A large batch is split across this thread and worker threads (each builds its own TeX input
// once): one more thread for every FORMULAS_PER_THREAD formulas, up to one a core.
const FORMULAS_PER_THREAD = 2000;

function startWorker() {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { pieces: true } });
  worker.on('error', (err) => {
    process.stderr.write(`check.mjs: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
  return worker;
}

async function checkInParallel(items, ready) {
  if (!items.length) return [];
  let verdicts;
  const pool = new CheckPool({ startWorker, onBatch: (_, answered) => { verdicts = answered; } });
  pool.add(0, items);
  // the workers first: they load MathJax while this thread does (without a snapshot)
  pool.grow(Math.min(availableParallelism(), Math.ceil(items.length / FORMULAS_PER_THREAD)) - 1);
  pool.checkHere(ready || makeChecker());
  await pool.end();
  return verdicts;
}

// While batches still come, one core is left to mathdeck (it is reading and rendering the rest of
// the deck); once the input ends, a backlog large enough to repay a new thread gets a thread on
// every core (pool.mjs). A checker made before this process started (the startup snapshot's)
// answers on this thread, in place of the first worker: no thread to start, no MathJax to load.
async function streamMain(ready) {
  requireMathJaxInstalled();
  const pool = new CheckPool({
    startWorker,
    onBatch: (batch, verdicts) => process.stdout.write(`${JSON.stringify({ batch, verdicts })}\n`),
  });
  if (ready) pool.checkHere(ready);
  pool.grow(Math.max(availableParallelism() - 1, 1));
  let batch = 0;
  for await (const line of stdinLines()) {
    if (!line.trim()) continue;
    let items;
    try {
      items = parseItems(line);
    } catch (err) {
      process.stderr.write(`check.mjs: bad input: ${err.message}\n`);
      process.exit(2);
    }
    pool.add(batch, items);
    batch += 1;
  }
  pool.grow(availableParallelism(), BACKLOG_FOR_ANOTHER_THREAD);
  await pool.end();
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

// Every thread's V8 optimises some 250 of MathJax's functions as they get hot, on a compiler
// thread: with V8's default inlining budget that compiling was ~30% of node's CPU on a
// 2,000-card deck's 4,425 formulas and ~40% of it on a thread's first 1,000 (perf). A quarter of
// the budget compiles less and runs as fast: 11% fewer instructions on 2,900 of that deck's
// formulas from the startup snapshot (callgrind), 6% less CPU on the bench's 20,000 formulas
// (two threads), about as much CPU on 44,000 (a smaller budget, or a later tier-up, gained under
// 1% more). Nothing else shortens that warm-up: node's startup snapshot keeps no compiled code
// (every function starts lazy again) and code caches hold bytecode only. Set when the process
// starts, before anything is optimised (flags are the process's: its worker threads have it
// too), and not on node's command line, which the startup snapshot would have to be built with.
const INLINING_BUDGET = '--max-inlined-bytecode-size-cumulative=230'; // V8's default: 920

// What this process does, by its arguments; `ready` is a checker made before it started.
export function runMain(ready) {
  setFlagsFromString(INLINING_BUDGET);
  if (process.argv.includes('--names')) process.stdout.write(JSON.stringify(knownNames()));
  else if (process.argv.includes('--stream')) streamMain(ready);
  else main(ready);
}

// import.meta.snapshot: snapshot.cjs is loading this file into a startup snapshot, and runs
// runMain itself in each process started from it.
if (isMainThread) {
  if (!import.meta.snapshot) runMain();
} else if (workerData && workerData.pieces) {
  answerPieces(parentPort, makeChecker());
}
