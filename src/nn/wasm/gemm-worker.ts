// The helper threads of WasmKernels({ threads: n }) (n − 1 workers, started by ThreadTeam in
// wasm/threads.ts), and the protocol they share with the main thread.
//
// The worker instantiates the same gemm module on the same shared memory. A product is
// cut into chunks (column or row ranges of C on tile boundaries, see gemmChunk in
// gemm-module.ts; element-wise jobs such as the LSTM gates are cut into row ranges, see
// runChunk), and BOTH threads claim chunks from a shared counter until none are
// left. So if the worker is slow to wake, or the operating system gives its core to
// another process, the main thread simply computes more of the chunks itself: sharing
// the work never makes a product much slower than one thread would be.
//
// Control block: Int32 words in the shared memory. Chunks have ids that only ever grow
// (mod 2³²), so a stale read can never be mistaken for a claim on a later product:
//   ctl[POSTED]    bumped for every product posted (what a sleeping worker waits on)
//   ctl[NEXT]      id of the next unclaimed chunk; a thread claims id v by CAS v → v + 1
//   ctl[END]       one past the last chunk id of the current product
//   ctl[FINISHED]  number of chunks finished, ever (the main thread waits for it to reach END)
//   ctl[BASE]      id of the current product's first chunk (chunk index = id − BASE)
//   ctl[STOP]      1 asks the worker to exit
//   ctl[ERROR]     set to 1 if a chunk threw in the worker: the main thread then throws
//   ctl[WS + 3w…]  worker w's scratch areas: aPack, bTile, bPack (they move when they grow)
//   ctl[SPIN]      how long the worker polls before it sleeps, µs (0 while the main thread
//                  keeps small jobs to itself because another process has the second core)
//   ctl[W_SLEEPS]  how many workers are (about to be) asleep in Atomics.wait on POSTED;
//   ctl[M_SLEEPS]  1 while the main thread is: the other side calls Atomics.notify only then
//                  (a notify costs even with nobody waiting).
//                  A sleeper sets its flag and then waits only if the value it waits on is
//                  unchanged; the other changes that value and then reads the flag. With
//                  sequentially consistent atomics one of them sees the other's write, so a
//                  wake-up is never lost.
//   ctl[JOB…]      the job's descriptor, read by runChunk (see JOB and ROWJOB in gemm-module.ts)
// The main thread claims the first chunk of every job itself (NEXT = BASE + 1 before END is
// published), so the same part of a product (the same half of a one-row product's weights)
// is computed on the same core job after job unless the worker is late.
// The main thread writes the descriptor, then END (Atomics.store, which publishes the
// plain writes before it), then POSTED. A thread that wins the CAS for id v knows that the
// product owning v is not finished — and the main thread rewrites the descriptor only
// after a product is finished — so the descriptor it then reads is the right one.
//
// Waking a sleeping thread took ~250 µs on the 2-core VM this was measured on, while the
// products of one time step take only tens of microseconds, so the worker polls for
// ctl[SPIN] µs (WasmKernels' spinMicros) before it sleeps in Atomics.wait; it only sleeps
// when the trainer does something else for longer — or when the main thread has found the
// worker starved of a core and keeps small jobs to itself (SPIN = 0, see ThreadTeam.welcome in
// wasm/threads.ts), so that its polling does not take CPU time from the main thread.
//
// The worker's code is a string (a classic script that defines run(data, ready)), which the
// platform starts as a thread of its own (Platform.startWorker: Node's passes it to
// worker_threads with `eval: true`, a page's would make it a Blob URL for a Web Worker): it
// needs no file of its own, so it works the same from dist/ (compiled), from src/ under the
// test runner, and from a bundle.

import type { WorkerData } from '../../platform/platform.js';

export type { WorkerData };

/** Workers a control block has room for. */
export const MAX_WORKERS = 63;

export const CTL = {
  POSTED: 0, NEXT: 1, END: 2, FINISHED: 3, BASE: 4, STOP: 5, ERROR: 6,
  /** How long the workers poll for the next job before sleeping, in microseconds. */
  SPIN: 10,
  /** How many workers are (about to be) asleep in Atomics.wait on POSTED. */
  W_SLEEPS: 11,
  /** 1 while the main thread is (about to be) asleep in Atomics.wait on FINISHED. */
  M_SLEEPS: 12,
  /** The job descriptor (JOB and ROWJOB in gemm-module.ts), JOB_WORDS words. */
  JOB: 16,
  JOB_WORDS: 32,
  /** Worker w's scratch pointers: aPack, bTile, bPack at WS + 3w. */
  WS: 64,
  INTS: 64 + 3 * MAX_WORKERS,
} as const;

/** The worker: `run(data, ready)` instantiates the module on the memory, calls ready(), then
 *  claims and runs chunks until the main thread sets ctl[STOP]. It uses nothing but
 *  WebAssembly, Atomics and performance.now(), which every platform's threads have. */
export const WORKER_SCRIPT = `
function run(data, ready) {
  const { module, memory, ctlOffset, index } = data;
  const C = ${JSON.stringify(CTL)};
  const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const ctl = new Int32Array(memory.buffer, ctlOffset, C.INTS);
  const job = ctlOffset + 4 * C.JOB;
  const ws = C.WS + 3 * index;

  // Claims and runs chunks until none are left; returns whether it ran any.
  function work() {
    let ran = false;
    for (;;) {
      const v = Atomics.load(ctl, C.NEXT), e = Atomics.load(ctl, C.END);
      if (((e - v) | 0) <= 0) return ran;
      if (Atomics.compareExchange(ctl, C.NEXT, v, (v + 1) | 0) !== v) continue;
      try {
        x.runChunk(job, (v - ctl[C.BASE]) | 0, ctl[ws], ctl[ws + 1], ctl[ws + 2]);
      } catch (e) {
        Atomics.store(ctl, C.ERROR, 1); // never leave the main thread waiting
      }
      Atomics.add(ctl, C.FINISHED, 1);
      if (Atomics.load(ctl, C.M_SLEEPS) !== 0) Atomics.notify(ctl, C.FINISHED);
      ran = true;
    }
  }

  ready();
  for (;;) {
    const posted = Atomics.load(ctl, C.POSTED);
    if (work()) continue;
    if (Atomics.load(ctl, C.STOP) !== 0) break;
    const until = performance.now() + Atomics.load(ctl, C.SPIN) / 1000;
    let changed = false;
    do {
      for (let i = 0; i < 256 && !changed; i++) changed = Atomics.load(ctl, C.POSTED) !== posted;
    } while (!changed && performance.now() < until);
    if (!changed) {
      Atomics.add(ctl, C.W_SLEEPS, 1);
      Atomics.wait(ctl, C.POSTED, posted);
      Atomics.sub(ctl, C.W_SLEEPS, 1);
    }
  }
}
`;
