// The layer wavefront for training 2×256, emulated with the real product kernel (npm run
// bench:ab, part 5). A training forward pass of a 2-layer LSTM does, per time step, layer 0's
// recurrent product and layer 1's (32×256×1024 each, batch 32), and layer 1's input product,
// which `lstm` runs as one 2048×256×1024 product over all 64 steps once layer 0 is done. Three
// ways to put that on two threads, the same floating-point operations in each:
//   split      what lstm does: each per-step product cut in two column halves, one per thread
//              (the ThreadTeam, two meetings a step), then the input product, cut likewise;
//   wavefront  each thread one layer with its own weights (thread 0 layer 0 at step t + 1 while
//              thread 1 does layer 1 at step t), meeting once a step; layer 1's input product
//              must then run step by step on thread 1, fused with its recurrent one (32×512×1024);
//   balanced   the best a wavefront could do: each thread 1.5 products' worth a step (its
//              layer's recurrent product and half of layer 1's input columns), meeting once a step.
// Products only (no gates, no hand-off of h, which is 32 KB a step): a bound on what the
// wavefront could buy. Each side runs on its own single-thread WasmKernels; this file is also
// the second side's worker.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import '../../src/platform/node.js'; // the engine core's platform (src/platform/platform.ts)
import { WasmKernels } from '../../src/nn/wasm/kernels.js';
import { Rng } from '../../src/nn/rng.js';
import type { FloatArray, PackedMatrix } from '../../src/nn/kernels.js';

export const M = 32, H = 256, G = 4 * H, STEPS = 64;

/** One side's products: for each, its depth K and width N (M = 32 rows). */
export type Plan = Array<[number, number]>;

/** Word 0: the round to run (the worker waits for it to change); word 1: steps finished by
 *  both sides, counted twice (each side adds one a step). */
export function newControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** A side: its own kernels, A, packed weights and outputs; run() does STEPS steps of its
 *  plan, meeting the other side after each. */
/** n numbers of k's memory, uniform in [−0.5, 0.5). */
export function randomIn(k: WasmKernels, n: number, rng: Rng): FloatArray {
  const a = k.alloc(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() - 0.5;
  return a;
}

export function side(plan: Plan, ctl: Int32Array): { run(): void; close(): void } {
  const k = WasmKernels.createSync({ threads: 1 }), rng = new Rng(7);
  const ops = plan.map(([K, N]) => {
    const A = randomIn(k, M * K, rng), B = randomIn(k, K * N, rng), C = k.alloc(M * N);
    return { K, N, A, C, P: k.packB(K, N, B, 0, N) as PackedMatrix };
  });
  let met = 0;
  return {
    run() {
      for (let t = 0; t < STEPS; t++) {
        for (const o of ops) k.gemmPacked(M, o.A, 0, o.K, o.P, o.C, 0, o.N, false);
        Atomics.add(ctl, 1, 1);
        met += 2;
        while (Atomics.load(ctl, 1) < met); // the other side's step t is done too
      }
    },
    close: () => k.close(),
  };
}

/** The second side, in a worker: runs a round each time word 0 changes, until it is −1. */
export function startOtherSide(plan: Plan, ctl: Int32Array): Promise<Worker> {
  const w = new Worker(new URL(import.meta.url), { workerData: { plan, ctl } });
  return new Promise((resolve) => w.once('message', () => resolve(w)));
}

if (!isMainThread && workerData?.ctl) {
  const ctl = workerData.ctl as Int32Array, s = side(workerData.plan as Plan, ctl);
  parentPort!.postMessage('ready');
  for (let round = 0; ; round++) {
    Atomics.wait(ctl, 0, round);
    if (Atomics.load(ctl, 0) < 0) break;
    s.run();
  }
  s.close();
}
