// Optimisers and gradient clipping over the flat parameter and gradient arrays.
//
// Update rules and defaults follow PyTorch's torch.optim so that a step here equals a step
// there: Adam (β1 0.9, β2 0.999, ε 1e-8), RMSprop (α 0.99, ε 1e-8), Adagrad (ε 1e-10),
// SGD with optional momentum (buf = μ·buf + g, no dampening).

import type { FloatArray, Kernels } from './kernels.js';

export const OPTIMIZERS = ['adam', 'rmsprop', 'adagrad', 'sgd'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];

export interface OptimizerState {
  kind: OptimizerKind;
  /** Updates taken so far (Adam's bias correction needs it). */
  t: number;
  /** The per-parameter buffers, in the order of Optimizer.buffers. */
  buffers: FloatArray[];
}

export interface OptimizerOptions {
  momentum?: number;
  beta1?: number;
  beta2?: number;
  alpha?: number;
  eps?: number;
}

export class Optimizer {
  t = 0;
  /** adam: [m, v]; rmsprop: [square avg]; adagrad: [sum of squares]; sgd with momentum: [velocity]. */
  readonly buffers: FloatArray[];
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly alpha: number;
  private readonly eps: number;
  private readonly momentum: number;

  /** With `kernels` the buffers live where those kernels work (kernels.alloc), and Adam runs
   *  through kernels.adamStep where they have one; without, plain Float32Arrays and JS. */
  constructor(readonly kind: OptimizerKind, size: number, opts: OptimizerOptions = {}, private readonly kernels?: Kernels) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.alpha = opts.alpha ?? 0.99;
    this.momentum = opts.momentum ?? 0;
    this.eps = opts.eps ?? (kind === 'adagrad' ? 1e-10 : 1e-8);
    const count = kind === 'adam' ? 2 : kind === 'sgd' ? (this.momentum > 0 ? 1 : 0) : 1;
    this.buffers = Array.from({ length: count }, () => (kernels ? kernels.alloc(size) : new Float32Array(size)));
  }

  step(p: FloatArray, g: FloatArray, lr: number): void {
    this.t++;
    const n = p.length;
    switch (this.kind) {
      case 'adam': {
        const b1 = this.beta1, b2 = this.beta2, eps = this.eps;
        // PyTorch's arrangement: p −= (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
        const stepSize = lr / (1 - Math.pow(b1, this.t));
        const bc2 = Math.sqrt(1 - Math.pow(b2, this.t));
        // The kernels' own Adam, where they have one (wasm: this loop in f64x2, the same
        // bits), steps the first `done` numbers; this loop does the rest.
        const [m, v] = this.buffers;
        const done = this.kernels?.adamStep?.(p, g, m, v, b1, b2, stepSize, bc2, eps) ?? 0;
        for (let j = done; j < n; j++) {
          const gj = g[j];
          const mj = (m[j] = b1 * m[j] + (1 - b1) * gj);
          const vj = (v[j] = b2 * v[j] + (1 - b2) * gj * gj);
          p[j] -= (stepSize * mj) / (Math.sqrt(vj) / bc2 + eps);
        }
        break;
      }
      case 'rmsprop': {
        const [s] = this.buffers;
        const a = this.alpha, eps = this.eps;
        for (let j = 0; j < n; j++) {
          const gj = g[j];
          const sj = (s[j] = a * s[j] + (1 - a) * gj * gj);
          p[j] -= (lr * gj) / (Math.sqrt(sj) + eps);
        }
        break;
      }
      case 'adagrad': {
        const [s] = this.buffers;
        const eps = this.eps;
        for (let j = 0; j < n; j++) {
          const gj = g[j];
          const sj = (s[j] += gj * gj);
          p[j] -= (lr * gj) / (Math.sqrt(sj) + eps);
        }
        break;
      }
      case 'sgd': {
        if (this.momentum > 0) {
          const [buf] = this.buffers;
          const mu = this.momentum;
          // The first step starts the velocity at g, as PyTorch does.
          if (this.t === 1) for (let j = 0; j < n; j++) buf[j] = g[j];
          else for (let j = 0; j < n; j++) buf[j] = mu * buf[j] + g[j];
          for (let j = 0; j < n; j++) p[j] -= lr * buf[j];
        } else {
          for (let j = 0; j < n; j++) p[j] -= lr * g[j];
        }
        break;
      }
    }
  }

  getState(): OptimizerState {
    return { kind: this.kind, t: this.t, buffers: this.buffers };
  }

  setState(s: OptimizerState): void {
    if (s.kind !== this.kind) throw new Error(`optimiser state is for ${s.kind}, not ${this.kind}`);
    if (s.buffers.length !== this.buffers.length) throw new Error('optimiser state has the wrong number of buffers');
    for (let i = 0; i < this.buffers.length; i++) {
      if (s.buffers[i].length !== this.buffers[i].length) throw new Error('optimiser state has the wrong size');
      this.buffers[i].set(s.buffers[i]);
    }
    this.t = s.t;
  }
}

/** The global L2 norm of all gradients, accumulated in float64. */
export function gradNorm(g: FloatArray): number {
  let s = 0;
  for (let j = 0; j < g.length; j++) s += g[j] * g[j];
  return Math.sqrt(s);
}

/**
 * Rescale the gradients so their global norm is at most maxNorm (Pascanu et al. 2013), with
 * PyTorch's clip_grad_norm_ formula: g ·= maxNorm / (norm + 1e-6) when that factor is below 1.
 * Returns the norm before clipping and whether it clipped.
 */
export function clipGradNorm(g: FloatArray, maxNorm: number): { norm: number; clipped: boolean } {
  const norm = gradNorm(g);
  const coef = maxNorm / (norm + 1e-6);
  if (maxNorm > 0 && coef < 1) {
    for (let j = 0; j < g.length; j++) g[j] *= coef;
    return { norm, clipped: true };
  }
  return { norm, clipped: false };
}

/** Clamp every gradient to [−v, v] (what char-rnn does). Returns whether any was clamped. */
export function clipGradValue(g: FloatArray, v: number): boolean {
  let any = false;
  for (let j = 0; j < g.length; j++) {
    if (g[j] > v) { g[j] = v; any = true; } else if (g[j] < -v) { g[j] = -v; any = true; }
  }
  return any;
}
