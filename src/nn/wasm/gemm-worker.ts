// The helper threads of WasmKernels({ threads: n }) (n − 1 workers, started by ThreadTeam in
// wasm/threads.ts): what they run.
//
// The worker instantiates the same gemm module on the same shared memory. A product is
// cut into chunks (column or row ranges of C on tile boundaries, see gemmChunk in
// wasm/module.ts; element-wise jobs such as the LSTM gates are cut into row ranges, see
// runChunk), and BOTH threads claim chunks from a shared counter until none are
// left. So if the worker is slow to wake, or the operating system gives its core to
// another process, the main thread simply computes more of the chunks itself: sharing
// the work never makes a product much slower than one thread would be.
//
// The control block and the job descriptors are the protocol in wasm/jobs.ts.
//
// Waking a sleeping thread takes longer than the products of one time step (numbers in
// docs/performance.md), so the worker polls for
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
import { CTL } from './jobs.js';

export type { WorkerData };

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
