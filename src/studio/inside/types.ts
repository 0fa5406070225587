// The studio's "inside the model" views: what the page asks the worker (InsideRequest) and what
// the worker answers (InsideResult). Both are structured-cloneable (plain objects, strings,
// numbers, typed arrays), so they cross postMessage as they are.
//
// Positions t are 0-based code point indices into the text the views read (handleInside's
// `text`): t is the character just read, so "the value at t" is the state after reading it and
// "the next characters at t" are the model's guesses for character t + 1. Layers are 0-based
// here (the page shows them 1-based, as the CLI does); units are 0-based, as the CLI's are.

import type { CellType } from '../../nn/model.js';

/** What to colour the text by in the Units view. */
export interface UnitChoice {
  layer: number;
  unit: number;
  /** One of QUANTITIES[cell]: c (shown through tanh), h, or a gate (i f g o / r z n). */
  quantity: string;
}

export interface UnitsRequest {
  kind: 'units';
  /** The unit to colour the text by; absent: the unit that tracks a feature best (visualize's pick). */
  unit?: UnitChoice;
  /** A user's regular expression, scored as the feature "inside a match" (visualize --feature). */
  regex?: string;
  /** Units listed per feature (default 5, as visualize's --top). */
  top?: number;
}

export interface StepRequest {
  kind: 'step';
  /** The character read at this step. */
  t: number;
  layer: number;
  unit: number;
}

export interface GradientsRequest {
  kind: 'gradients';
  /** Inputs backpropagated through (default 120, as inspect-gradients' --length). */
  length?: number;
  /** Default: the top layer, as inspect-gradients. */
  layer?: number;
  /** The fresh models' seed (default 1, lstm train's) and forget bias (default 1). */
  seed?: number;
  forgetBias?: number;
}

export interface InterveneRequest {
  kind: 'intervene';
  layer: number;
  unit: number;
  /** From this character on, the unit's cell (lstm, lstm-nofg; h for gru and rnn) is set to
   *  `value` (0 with 'zero') before each character is read. */
  from: number;
  mode: 'zero' | 'clamp';
  value?: number;
  /** The text is read up to (not including) this position (default: from + 200, at most its end);
   *  the continuation starts there. */
  to?: number;
  /** Characters of continuation (default 200). */
  length?: number;
  /** 0 (default): the most likely character each time; above 0: sampled at this temperature. */
  temperature?: number;
  /** The sample's seed (default 1): both continuations draw the same random numbers. */
  seed?: number;
}

export type InsideRequest = UnitsRequest | StepRequest | GradientsRequest | InterveneRequest;
export type InsideKind = InsideRequest['kind'];

/** The model the views read, for their headings. */
export interface ModelInfo {
  cell: CellType;
  layers: number;
  hidden: number;
  vocabSize: number;
}

/** Up to five next characters, most likely first. */
export interface NextChars {
  chars: string[];
  probs: number[];
}

export interface RankedUnit extends UnitChoice {
  /** r (numeric features) or η² (categorical), as visualize ranks them. */
  score: number;
  /** "r = +0.93" / "η² = 0.41", as visualize prints it. */
  scoreText: string;
  /** "layer 1 · unit 37 · c", as visualize prints it. */
  label: string;
}

export interface FeatureRanking {
  name: string;
  description: string;
  kind: 'numeric' | 'categorical';
  ranked: RankedUnit[];
}

export interface SaturationPanel {
  layer: number;
  gate: string;
  /** Per unit: share of characters below 0.1 and above 0.9. */
  left: Float64Array;
  right: Float64Array;
  lines: string[];
}

export interface UnitsResult {
  kind: 'units';
  model: ModelInfo;
  /** The text, one code point each. */
  chars: string[];
  features: FeatureRanking[];
  /** Built-in features not scored because they do not vary on this text. */
  constant: string[];
  /** Why the regex could not be scored (invalid, matches nothing or everything), else null. */
  regexError: string | null;
  shown: UnitChoice & {
    /** Why this unit: "the unit that tracks line-position best (r = +0.93)", "chosen". */
    why: string;
    /** On the −1 … 1 colour scale (c through tanh; gates 0 … 1 mapped to −1 … 1), per character. */
    scaled: Float32Array;
    /** As recorded (c raw), per character: what the hover box shows. */
    values: Float32Array;
    /** A sigmoid gate (0 … 1), whose colour scale is 0 … 1. */
    gate: boolean;
  };
  /** The quantities of this cell (what the unit can be coloured by). */
  quantities: string[];
  /** T × K next-character ids (into vocab) and probabilities after each character. */
  K: number;
  top: Int32Array;
  topP: Float32Array;
  vocab: string[];
  saturation: SaturationPanel[];
}

export interface GateNumbers {
  /** i, f, g, o (lstm); i, g, o (lstm-nofg); r, z, n (gru); h (rnn). */
  name: string;
  /** The engine's pre-activation (for gru: the input part plus the hidden part, n's as r·h_n). */
  pre: number;
  /** The engine's activation (σ, or tanh for g, n and rnn's h). */
  value: number;
  /** The pre-activation's terms. lstm, lstm-nofg, rnn: W_ih·x (the weights' row of the character
   *  on layer 0), W_hh·h_{t−1} (float64 sums of the engine's weights and values) and the bias
   *  (pre ≈ their sum). gru: the engine's own two parts, W_ih·x + b_ih and W_hh·h_{t−1} + b_hh
   *  (bias null): r and z add them, n adds r times the hidden part. */
  inputPart: number;
  recurrentPart: number;
  bias: number | null;
}

export interface StepResult {
  kind: 'step';
  model: ModelInfo;
  t: number;
  layer: number;
  unit: number;
  /** The character read (x_t) and the one before it (null at t = 0). */
  char: string;
  prevChar: string | null;
  /** The layer's input: the character (layer 0) or h of the layer below, at t. */
  input: { kind: 'char'; char: string } | { kind: 'below'; h: Float32Array };
  /** The whole layer's state before and after the step (H each; c for lstm and lstm-nofg). */
  hPrev: Float32Array;
  h: Float32Array;
  cPrev: Float32Array | null;
  c: Float32Array | null;
  gates: GateNumbers[];
  /** The chosen unit's numbers, as the equations use them (absent ones null). */
  unitNumbers: {
    hPrev: number;
    h: number;
    cPrev: number | null;
    c: number | null;
    /** tanh(c_t), the engine's own (lstm). */
    tanhC: number | null;
    /** f·c_{t−1} (1·c_{t−1} without a forget gate) and i·g: the two terms of c_t. */
    keep: number | null;
    write: number | null;
    /** gru: r·h_n, the hidden part of n's pre-activation. */
    resetHidden: number | null;
  };
  /** The softmax after this step (the top layer's h through the decoder): the next character. */
  next: NextChars;
  /** The character that does come next in the text, and its probability, or null at the end. */
  actualNext: { char: string; prob: number } | null;
}

export interface GradientCurve {
  label: string;
  cell: CellType;
  /** The current model (true) or a fresh one (false). */
  current: boolean;
  /** 0-based. */
  layer: number;
  /** k = 0 … steps−1 steps back from the last input: ‖∂E/∂h‖, ‖∂E/∂c‖ (lstms), ‖∂h/∂h₋₁‖₂. */
  gradH: number[];
  gradC: number[] | null;
  jacobian: number[];
  loss: number;
  /** Mean factor per step back (inspect-gradients' table), or null. */
  decay: number | null;
  /** The first k at which ‖∂E/∂h‖ is below 1e-6 of its value at k = 0, or null. */
  vanishedAt: number | null;
}

export interface GradientsResult {
  kind: 'gradients';
  model: ModelInfo;
  /** The inputs and the target (the last character). */
  chars: string[];
  steps: number;
  curves: GradientCurve[];
}

export interface PositionProbs {
  /** Position t (the character just read). */
  t: number;
  /** The probability of the text's next character, plain and intervened (null at the end). */
  actual: number | null;
  actualWith: number | null;
  plain: NextChars;
  with: NextChars;
  /** Total variation distance between the two distributions (0 … 1). */
  change: number;
}

export interface InterveneResult {
  kind: 'intervene';
  model: ModelInfo;
  layer: number;
  unit: number;
  /** 'c' (lstm, lstm-nofg) or 'h' (gru, rnn). */
  quantity: 'c' | 'h';
  from: number;
  to: number;
  value: number;
  /** The text read, chars[from … to). */
  chars: string[];
  positions: PositionProbs[];
  /** What the model writes after chars[to − 1], without and with the intervention. */
  continuation: string;
  continuationWith: string;
  /** The unit's own value (after each character, from … to − 1), plain and intervened. */
  unitPlain: Float32Array;
  unitWith: Float32Array;
}

/** A request the views cannot answer as asked (a unit out of range, a text the model cannot read…),
 *  in one sentence. */
export interface InsideError {
  kind: 'error';
  request: InsideKind;
  message: string;
}

export type InsideResult = UnitsResult | StepResult | GradientsResult | InterveneResult | InsideError;
