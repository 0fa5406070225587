// A deliberately wrong kernel, for the tests that show a gradient check can fail.

import { ReferenceKernels } from '../../src/nn/kernels.js';

/** The reference kernels with the LSTM (with forget gate) output gate's σ′ factor dropped
 *  from lstmBackward. */
export class BrokenOutputGateKernels extends ReferenceKernels {
  override lstmBackward(...args: Parameters<ReferenceKernels['lstmBackward']>): void {
    super.lstmBackward(...args);
    const [rows, H, , gates, gOff, , , , , , , , dGates, dgOff] = args;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < H; j++) {
        const o = gates[gOff + r * 4 * H + 3 * H + j];
        dGates[dgOff + r * 4 * H + 3 * H + j] /= o * (1 - o);
      }
    }
  }
}
