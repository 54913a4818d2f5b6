// The threads that check formulas for check.mjs: this thread's checker (the startup snapshot's,
// or one made here) and worker threads, each with its own TeX input, fed pieces of PIECE formulas
// from one queue, so that they finish together.
//
// Why pieces, and why few threads: a thread's first formulas cost it several times what later
// ones do (V8 compiles MathJax's parser as it runs: ~2.5 ms a formula for the first few hundred,
// ~0.4 ms after some thousands; a worker also loads MathJax, ~0.25 s). Half a batch given to a
// new worker up front took it longer than the warm thread took for the other half, which then
// waited; pieces taken as each thread frees up balance that, and a backlog too small to repay a
// new thread's start (BACKLOG_FOR_ANOTHER_THREAD) gets none.
//
//   const pool = new CheckPool({ startWorker, onBatch });
//   pool.checkHere(check); pool.grow(threads[, backlog]); pool.add(number, items) ...;
//   pool.end() -> a promise, settled once every batch is answered
//
// `check(tex, display)` checks on this thread (without it: only workers); `startWorker()` returns
// a Worker running answerPieces; `onBatch(number, verdicts)` is called once per batch, in the
// order batches are completed.

const PIECE = 50; // formulas handed out at a time; also this thread's slice between reads of stdin
const IN_FLIGHT = 2; // pieces a worker holds: it never waits for this thread's slice to end
// A new thread pays ~0.25 s to load MathJax and checks its first formulas slowly: below this
// backlog the warm threads finish about as soon without it, for less CPU.
export const BACKLOG_FOR_ANOTHER_THREAD = 3000;

export class CheckPool {
  constructor({ startWorker, onBatch }) {
    this.here = null;
    this.startWorker = startWorker;
    this.onBatch = onBatch;
    this.workers = [];
    this.queue = []; // pieces not handed out yet: {batch, start, items}
    this.batches = new Map(); // number -> {verdicts, unanswered}
    this.ended = false;
    this.done = null; // resolves end()'s promise
  }

  checkHere(check) {
    this.here = { check, held: 0 };
    this.dispatch();
  }

  get threads() {
    return this.workers.length + (this.here ? 1 : 0);
  }

  // Another worker thread, when fewer than `threads` check and the queue holds at least `backlog`.
  grow(threads, backlog = 0) {
    while (this.threads < threads && this.queuedFormulas() >= backlog) {
      const thread = this.startWorker();
      const worker = { thread, held: 0 };
      thread.on('message', ({ piece, verdicts }) => {
        worker.held -= 1;
        this.answered(piece, verdicts);
      });
      this.workers.push(worker);
    }
    this.dispatch();
  }

  queuedFormulas() {
    return this.queue.reduce((total, piece) => total + piece.items.length, 0);
  }

  add(number, items) {
    this.batches.set(number, { verdicts: new Array(items.length), unanswered: items.length });
    for (let start = 0; start < items.length; start += PIECE) {
      this.queue.push({ batch: number, start, items: items.slice(start, start + PIECE) });
    }
    if (!items.length) this.complete(number);
    this.dispatch();
  }

  end() {
    this.ended = true;
    return new Promise((resolve) => {
      this.done = resolve;
      this.finishIfDone();
    });
  }

  dispatch() {
    for (const worker of this.workers) {
      while (worker.held < IN_FLIGHT && this.queue.length) {
        worker.held += 1;
        const { batch, start, items } = this.queue.shift();
        worker.thread.postMessage({ piece: { batch, start }, items });
      }
    }
    const here = this.here;
    if (here && !here.held && this.queue.length) {
      here.held = 1;
      const piece = this.queue.shift();
      // a piece a turn of the event loop: stdin is read and workers are answered in between
      setImmediate(() => {
        const verdicts = piece.items.map((item) => here.check(item.tex, Boolean(item.display)));
        here.held = 0;
        this.answered(piece, verdicts);
      });
    }
  }

  answered({ batch, start }, verdicts) {
    const waiting = this.batches.get(batch);
    for (let i = 0; i < verdicts.length; i += 1) waiting.verdicts[start + i] = verdicts[i];
    waiting.unanswered -= verdicts.length;
    if (waiting.unanswered === 0) this.complete(batch);
    this.dispatch();
  }

  complete(batch) {
    this.onBatch(batch, this.batches.get(batch).verdicts);
    this.batches.delete(batch);
    this.finishIfDone();
  }

  finishIfDone() {
    if (!this.ended || this.batches.size || !this.done) return;
    for (const worker of this.workers) worker.thread.terminate();
    this.done();
  }
}

// A worker thread's side: one checker, answering each piece it is sent.
export function answerPieces(port, check) {
  port.on('message', ({ piece, items }) => {
    port.postMessage({ piece, verdicts: items.map((item) => check(item.tex, Boolean(item.display))) });
  });
}
