// How well each unit tracks each feature, and how often each gate is saturated.
//
//   numeric feature      Pearson correlation r between the feature and the unit (−1 … 1),
//                        ranked by |r|
//   categorical feature  η², the share of the unit's variance that the categories explain
//                        (0 … 1): Σ_k n_k (mean_k − mean)² / Σ_t (x_t − mean)²
// Both use only the characters where the feature applies. c is scored raw (before tanh), so a
// cell that counts is not penalised for running past tanh's linear range.

import type { Feature } from './features.js';
import { SIGMOID_GATES, type Recording } from './record.js';

export interface UnitScore {
  /** 0-based layer and unit. */
  layer: number;
  unit: number;
  quantity: string;
  score: number;
}

export interface FeatureScores {
  feature: Feature;
  /** Every (layer, quantity, unit), strongest first. */
  ranked: UnitScore[];
}

/** Score every recorded unit of every quantity against one feature. */
export function scoreFeature(rec: Recording, f: Feature): FeatureScores {
  const ranked: UnitScore[] = [];
  for (let l = 0; l < rec.L; l++) {
    for (const [quantity, x] of Object.entries(rec.layers[l].q)) {
      const s = f.kind === 'numeric' ? correlations(x, rec.T, rec.H, f.values) : etaSquared(x, rec.T, rec.H, f.labels, f.categories.length);
      for (let j = 0; j < rec.H; j++) ranked.push({ layer: l, unit: j, quantity, score: s[j] });
    }
  }
  ranked.sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || a.layer - b.layer || a.unit - b.unit);
  return { feature: f, ranked };
}

/** A score as `lstm visualize` prints it: "r = +0.93" (numeric) or "η² = 0.41" (categorical). */
export function formatScore(f: Feature, score: number): string {
  return f.kind === 'numeric' ? `r = ${score >= 0 ? '+' : '−'}${Math.abs(score).toFixed(2)}` : `η² = ${score.toFixed(2)}`;
}

/** "layer 1 · unit 37 · c": layers 1-based, as the CLI names them. */
export function unitLabel(s: { layer: number; unit: number; quantity: string }): string {
  return `layer ${s.layer + 1} · unit ${s.unit} · ${s.quantity}`;
}

/** How strongly a unit tracks a feature, on one scale for both kinds: |r|, or η (√η²). */
export function strengthOf(f: Feature, score: number): number {
  return f.kind === 'numeric' ? Math.abs(score) : Math.sqrt(score);
}

/** The strongest unit over all features, among those `keep` admits (each feature's ranked list
 *  is strongest first), compared by strengthOf: the unit the page lists first. */
export function strongestUnit(features: readonly FeatureScores[], keep: (u: UnitScore) => boolean = () => true): { s: UnitScore; f: FeatureScores } | null {
  let best: { s: UnitScore; f: FeatureScores } | null = null;
  for (const f of features) {
    const s = f.ranked.find(keep);
    if (s && (!best || strengthOf(f.feature, s.score) > strengthOf(best.f.feature, best.s.score))) best = { s, f };
  }
  return best;
}

/** r between y (NaN = skip) and each column of x (T × H). A constant column scores 0. */
export function correlations(x: Float32Array, T: number, H: number, y: Float64Array): Float64Array {
  const sx = new Float64Array(H), sxx = new Float64Array(H), sxy = new Float64Array(H);
  let n = 0, sy = 0, syy = 0;
  for (let t = 0; t < T; t++) {
    const v = y[t];
    if (Number.isNaN(v)) continue;
    n++; sy += v; syy += v * v;
    const row = t * H;
    for (let j = 0; j < H; j++) {
      const a = x[row + j];
      sx[j] += a; sxx[j] += a * a; sxy[j] += a * v;
    }
  }
  const out = new Float64Array(H);
  const vy = syy - (sy * sy) / n;
  for (let j = 0; j < H; j++) {
    const vx = sxx[j] - (sx[j] * sx[j]) / n;
    const cov = sxy[j] - (sx[j] * sy) / n;
    out[j] = vx > 1e-12 * n && vy > 0 ? cov / Math.sqrt(vx * vy) : 0;
  }
  return out;
}

/** η² of each column of x (T × H) explained by labels (−1 = skip) in 0 … K−1. */
export function etaSquared(x: Float32Array, T: number, H: number, labels: Int32Array, K: number): Float64Array {
  const sum = new Float64Array(K * H), count = new Float64Array(K);
  const total = new Float64Array(H), sq = new Float64Array(H);
  let n = 0;
  for (let t = 0; t < T; t++) {
    const k = labels[t];
    if (k < 0) continue;
    n++; count[k]++;
    const row = t * H, s = k * H;
    for (let j = 0; j < H; j++) {
      const a = x[row + j];
      sum[s + j] += a; total[j] += a; sq[j] += a * a;
    }
  }
  const out = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const mean = total[j] / n;
    const ssTotal = sq[j] - n * mean * mean;
    if (!(ssTotal > 1e-12 * n)) continue;
    let between = 0;
    for (let k = 0; k < K; k++) if (count[k] > 0) between += count[k] * (sum[k * H + j] / count[k] - mean) ** 2;
    out[j] = Math.min(1, between / ssTotal);
  }
  return out;
}

export const LEFT = 0.1;
export const RIGHT = 0.9;

export interface GateSaturation {
  layer: number;
  gate: string;
  /** Per unit: share of characters with the gate below 0.1, and above 0.9. */
  left: Float64Array;
  right: Float64Array;
}

/** The paper's figure 3: for each sigmoid gate of each layer, per unit, how often it is saturated. */
export function saturation(rec: Recording): GateSaturation[] {
  const out: GateSaturation[] = [];
  for (let l = 0; l < rec.L; l++) {
    for (const [gate, x] of Object.entries(rec.layers[l].q)) {
      if (!SIGMOID_GATES.has(gate)) continue;
      const left = new Float64Array(rec.H), right = new Float64Array(rec.H);
      for (let t = 0; t < rec.T; t++) {
        for (let j = 0; j < rec.H; j++) {
          const v = x[t * rec.H + j];
          if (v < LEFT) left[j]++;
          else if (v > RIGHT) right[j]++;
        }
      }
      for (let j = 0; j < rec.H; j++) { left[j] /= rec.T; right[j] /= rec.T; }
      out.push({ layer: l, gate, left, right });
    }
  }
  return out;
}

const GATE_ROLE: Record<string, string> = {
  i: 'input gate (how much of the new candidate is written into the cell)',
  f: 'forget gate (how much of the cell is kept)',
  o: 'output gate (how much of the cell is shown as h)',
  r: 'reset gate (how much of h the candidate sees)',
  z: 'update gate (how much of the old h is kept)',
};

/** A few plain sentences on what one gate's saturation shares say. */
export function describeSaturation(s: GateSaturation): string[] {
  const H = s.left.length;
  const mostly = (a: Float64Array) => a.reduce((n, v) => n + (v > 0.5 ? 1 : 0), 0);
  const mean = (a: Float64Array) => a.reduce((x, v) => x + v, 0) / H;
  const r = mostly(s.right), lf = mostly(s.left);
  const never = s.left.reduce((n, v, j) => n + (v < 0.05 && s.right[j] < 0.05 ? 1 : 0), 0);
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const lines = [`${GATE_ROLE[s.gate] ?? s.gate}: on average ${pct(mean(s.left))} of characters below ${LEFT}, ${pct(mean(s.right))} above ${RIGHT}.`];
  const parts: string[] = [];
  if (r > 0) parts.push(`${r} of ${H} unit${r === 1 ? ' is' : 's are'} right-saturated on most characters${s.gate === 'f' ? ' (cells that keep their content: long memory)' : s.gate === 'z' ? ' (units that keep their old value)' : ''}`);
  if (lf > 0) parts.push(`${lf} ${lf === 1 ? 'is' : 'are'} left-saturated on most characters${s.gate === 'f' ? ' (cells that forget at once: they only hold the last character or so)' : ''}`);
  if (never > 0) parts.push(`${never} ${never === 1 ? 'is' : 'are'} rarely saturated either way (they act as soft, graded switches)`);
  if (parts.length > 0) lines.push(parts.join('; ') + '.');
  return lines;
}

/** The mean of one unit's values over the characters of each category (NaN for an empty one). */
export function categoryMeans(x: Float32Array, T: number, H: number, unit: number, labels: Int32Array, K: number): Float64Array {
  const sum = new Float64Array(K), n = new Float64Array(K);
  for (let t = 0; t < T; t++) {
    const k = labels[t];
    if (k >= 0) { sum[k] += x[t * H + unit]; n[k]++; }
  }
  return sum.map((s, k) => s / n[k]);
}
