// Many streams side by side, each its own row of one Graph: what evaluation (train/evaluate.ts:
// B streams of one text) and the probe (probe/candidates.ts: a row per prefix, then a row per
// candidate) both run. Rows never mix, so how many run together changes no number.

import { Graph } from './graph.js';
import { RecurrentState, type Model } from './model.js';
import type { FloatArray } from './kernels.js';

/** One row's recurrent state: h (and c for LSTMs) of every layer, H numbers each. Float64
 *  holds both backends' numbers exactly (float32 kernels, and the float64 reference). */
export interface RowState {
  h: Float64Array[];
  c: Float64Array[] | null;
}

export interface Row {
  /** Token ids, read one a step. */
  inputs: ArrayLike<number>;
  /** null: the zero state. */
  init: RowState | null;
}

/** Called after input t of row r; logits[off … off + V) predict the character after it. */
export type Visit = (r: number, t: number, logits: FloatArray, off: number) => void;

/** Called after each forward pass of a group of rows: the graph that ran it (graph.B rows,
 *  graph.T steps; row b's input t is at t·B + b), the first step p of the rows it read, and how
 *  many steps of it hold input (graph.T, or fewer in the last pass without fitLastChunk). */
export type ChunkDone = (graph: Graph, p: number, steps: number) => void;

export interface RowRunnerOptions {
  /** The last pass of a group runs a Graph of just the steps left (kept until the next one of
   *  another length) instead of padding to T: where every row of a group has the same length and
   *  each pass is scored as a whole (evaluation's loss). Off: one Graph for the whole run (the
   *  wasm kernels' memory is never freed, so a Graph per length would grow it without bound). */
  fitLastChunk?: boolean;
}

/**
 * Runs rows side by side, B at a time, each from its own initial state through its own inputs,
 * in chunks of T steps (the state carried across chunks, as in training). A row whose inputs
 * have ended keeps running on padding until the longest row of its group is done; its state is
 * taken at its own last input, so the padding changes nothing.
 */
export class RowRunner {
  private readonly graph: Graph;
  private tail: Graph | null = null;
  private readonly state: RecurrentState;
  private readonly tokens: Int32Array;
  private readonly H: number;
  private readonly V: number;

  constructor(readonly model: Model, readonly B: number, readonly T: number, private readonly opts: RowRunnerOptions = {}) {
    this.graph = new Graph(model, B, T, { train: false });
    this.state = new RecurrentState(model.config, B, model.kernels);
    this.tokens = new Int32Array(B * T);
    this.H = model.config.hidden;
    this.V = model.config.vocabSize;
  }

  /** Each row's state after its last input (its initial state if it has none). */
  run(rows: readonly Row[], visit?: Visit, chunkDone?: ChunkDone): RowState[] {
    const out: RowState[] = [];
    // Loops, here and in group, not spreads into calls: the batch B is the caller's to choose.
    for (let g = 0; g < rows.length; g += this.B) for (const s of this.group(rows.slice(g, g + this.B), g, visit, chunkDone)) out.push(s);
    return out;
  }

  /** The Graph for a pass of `steps` steps. */
  private graphFor(steps: number): Graph {
    if (steps === this.T || !this.opts.fitLastChunk) return this.graph;
    if (!this.tail || this.tail.T !== steps) this.tail = new Graph(this.model, this.B, steps, { train: false });
    return this.tail;
  }

  private group(rows: readonly Row[], first: number, visit?: Visit, chunkDone?: ChunkDone): RowState[] {
    const { B, T, H, V, state, tokens } = this;
    const L = this.model.config.layers;
    const hasC = state.c !== null;
    state.reset();
    rows.forEach((row, b) => {
      if (!row.init) return;
      for (let l = 0; l < L; l++) {
        state.h[l].set(row.init.h[l], b * H);
        if (hasC) state.c![l].set(row.init.c![l], b * H);
      }
    });
    const out: RowState[] = rows.map((row) => row.init ? copyState(row.init) : zeroState(L, H, hasC));
    const longest = rows.reduce((m, r) => Math.max(m, r.inputs.length), 0);
    for (let p = 0; p < longest; p += T) {
      const steps = Math.min(T, longest - p);
      const graph = this.graphFor(steps);
      tokens.fill(0); // padding: any valid id
      rows.forEach((row, b) => {
        for (let t = 0; t < T && p + t < row.inputs.length; t++) tokens[t * B + b] = row.inputs[p + t];
      });
      graph.forward(tokens, state, true, false, null);
      chunkDone?.(graph, p, steps);
      rows.forEach((row, b) => {
        const n = Math.min(T, row.inputs.length - p);
        if (visit) for (let t = 0; t < n; t++) visit(first + b, p + t, graph.logits, (t * B + b) * V);
        const last = row.inputs.length - 1 - p;
        if (last >= 0 && last < T) {
          // hs[l] slot t + 1 holds h after input t (slot 0 is the chunk's initial state).
          const at = ((last + 1) * B + b) * H;
          for (let l = 0; l < L; l++) {
            out[b].h[l].set(graph.hs[l].subarray(at, at + H));
            if (hasC) out[b].c![l].set(graph.cs[l].subarray(at, at + H));
          }
        }
      });
    }
    return out;
  }
}

function zeroState(L: number, H: number, hasC: boolean): RowState {
  return {
    h: Array.from({ length: L }, () => new Float64Array(H)),
    c: hasC ? Array.from({ length: L }, () => new Float64Array(H)) : null,
  };
}

function copyState(s: RowState): RowState {
  return { h: s.h.map((a) => a.slice()), c: s.c ? s.c.map((a) => a.slice()) : null };
}
