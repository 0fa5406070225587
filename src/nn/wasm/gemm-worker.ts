// The helper thread of WasmKernels({threads: 2}).
//
// It instantiates the same gemm module on the same shared memory and then serves one
// job at a time, described by integers in a small control block of that memory:
//
//   ctl[POSTED]   sequence number of the last job the main thread posted
//   ctl[DONE]     sequence number of the last job this worker finished
//   ctl[STOP]     1 asks the worker to exit
//   ctl[ERROR]    set to 1 if the job threw (a trap): the main thread then throws too
//   ctl[ARGS…]    the 15 arguments of the module's gemm() for the posted job
//
// Hand-off: the main thread writes the arguments, then Atomics.store + notify on POSTED;
// the worker runs gemm and Atomics.store + notify on DONE. Each side spins for a while
// before sleeping in Atomics.wait, because the products of one time step take only tens of
// microseconds and waking a sleeping thread costs about as much.
//
// The worker's code is a string run with `eval: true`: it then needs no file of its own,
// so it works the same from dist/ (compiled) and from src/ under the test runner.

export const CTL = { POSTED: 0, DONE: 1, STOP: 2, ERROR: 3, ARGS: 8, INTS: 32 } as const;

export interface WorkerData {
  module: unknown;
  memory: unknown;
  /** Byte offset of the control block (an Int32Array of CTL.INTS). */
  ctlOffset: number;
  /** Polls of the control word before sleeping. */
  spin: number;
}

export const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, ctlOffset, spin } = workerData;
const POSTED = ${CTL.POSTED}, DONE = ${CTL.DONE}, STOP = ${CTL.STOP}, ERROR = ${CTL.ERROR}, A = ${CTL.ARGS};
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
const ctl = new Int32Array(memory.buffer, ctlOffset, ${CTL.INTS});
let seen = 0; // jobs are numbered from 1, so one posted before we got here is still seen as new
parentPort.postMessage('ready');
for (;;) {
  let s = Atomics.load(ctl, POSTED);
  for (let i = 0; s === seen && i < spin; i++) s = Atomics.load(ctl, POSTED);
  if (s === seen) { Atomics.wait(ctl, POSTED, seen); continue; }
  seen = s;
  if (Atomics.load(ctl, STOP) !== 0) break;
  try {
    gemm(ctl[A], ctl[A + 1], ctl[A + 2], ctl[A + 3], ctl[A + 4], ctl[A + 5], ctl[A + 6], ctl[A + 7],
      ctl[A + 8], ctl[A + 9], ctl[A + 10], ctl[A + 11], ctl[A + 12], ctl[A + 13], ctl[A + 14]);
  } catch (e) {
    Atomics.store(ctl, ERROR, 1); // never leave the main thread waiting
  }
  Atomics.store(ctl, DONE, seen);
  Atomics.notify(ctl, DONE);
}
`;
