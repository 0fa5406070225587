// Between PyTorch's layout (lstm-torch/1) and ours (src/nn/model.ts).
//
//   PyTorch                         ours
//   rnn.weight_ih_l{k}  G × In      l{k}.w_ih  In × G   (transposed: a one-hot input is a row gather)
//   rnn.weight_hh_l{k}  G × H       l{k}.w_hh  H × G    (transposed)
//   rnn.bias_ih_l{k}    G           lstm, rnn: l{k}.b = bias_ih + bias_hh
//   rnn.bias_hh_l{k}    G           gru: l{k}.b_ih and l{k}.b_hh, kept apart (b_hn sits inside r⊙(…))
//   decoder.weight      V × H       dec.w      H × V    (transposed)
//   decoder.bias        V           dec.b      V
//
// Gate order is the same on both sides (lstm [i f g o], gru [r z n]), so a transpose is all the
// weights need. Where we keep one bias, import adds PyTorch's two in float32 and export writes
// the sum into bias_ih and zeros into bias_hh: the model computes the same function, and
// import(export(x)) gives back every number bit for bit.

import type { Model, ModelConfig } from '../nn/model.js';
import type { FloatArray } from '../nn/kernels.js';
import { expectedKeys, TORCH_CELLS, type TorchCell, type TorchModel, type TorchTensor } from './torchfile.js';

/** The model cannot be written as lstm-torch/1. */
export class ExportError extends Error {}

export function configOf(tm: TorchModel): ModelConfig {
  return { cell: tm.cell, vocabSize: tm.vocab.length, hidden: tm.hidden, layers: tm.layers };
}

/** Copy a [rows, cols] row-major matrix into dst at off as its cols × rows transpose. */
function transposeInto(src: Float32Array, rows: number, cols: number, dst: FloatArray, off: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) dst[off + c * rows + r] = src[r * cols + c];
  }
}

/** The rows × cols row-major transpose of our cols × rows matrix at off. */
function transposeOut(src: FloatArray, off: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = src[off + c * rows + r];
  }
  return out;
}

/** Fill a model built with configOf(tm) with the file's numbers. */
export function loadTorchInto(model: Model, tm: TorchModel): void {
  const { cell, layers: L, hidden: H } = tm;
  const V = tm.vocab.length;
  const c = model.config;
  if (c.cell !== cell || c.layers !== L || c.hidden !== H || c.vocabSize !== V) {
    throw new Error(`model is a ${c.layers}×${c.hidden} ${c.cell} over ${c.vocabSize} characters, the file a ${L}×${H} ${cell} over ${V}`);
  }
  const P = model.params;
  const get = (key: string): TorchTensor => tm.stateDict.get(key)!;
  for (let k = 0; k < L; k++) {
    const lt = model.layout.layers[k];
    const wih = get(`rnn.weight_ih_l${k}`), whh = get(`rnn.weight_hh_l${k}`);
    transposeInto(wih.data, wih.shape[0], wih.shape[1], P, lt.w_ih.offset);
    transposeInto(whh.data, whh.shape[0], whh.shape[1], P, lt.w_hh.offset);
    const bih = get(`rnn.bias_ih_l${k}`).data, bhh = get(`rnn.bias_hh_l${k}`).data;
    if (lt.b_hh) {
      P.set(bih, lt.b.offset);
      P.set(bhh, lt.b_hh.offset);
    } else {
      // Both are float32, so the double sum rounded once is exactly the float32 sum.
      for (let j = 0; j < bih.length; j++) P[lt.b.offset + j] = Math.fround(bih[j] + bhh[j]);
    }
  }
  const dw = get('decoder.weight');
  transposeInto(dw.data, dw.shape[0], dw.shape[1], P, model.layout.dec_w.offset);
  P.set(get('decoder.bias').data, model.layout.dec_b.offset);
}

/** The model in PyTorch's layout. The 1997 LSTM without a forget gate has no PyTorch module. */
export function torchModelOf(model: Model, vocab: string[]): TorchModel {
  const { cell, layers: L, hidden: H, vocabSize: V } = model.config;
  if (!(TORCH_CELLS as readonly string[]).includes(cell)) {
    throw new ExportError(`it is an ${cell} model (the 1997 LSTM without a forget gate), which has no PyTorch counterpart: nn.LSTM always has a forget gate`);
  }
  if (vocab.length !== V) throw new Error(`vocabulary has ${vocab.length} characters, the model ${V}`);
  const P = model.params;
  const layout = model.layout;
  const stateDict = new Map<string, TorchTensor>();
  for (const { key, shape } of expectedKeys(cell as TorchCell, L, H, V)) {
    let data: Float32Array;
    const m = /_l(\d+)$/.exec(key);
    const lt = m ? layout.layers[Number(m[1])] : null;
    const slice = (off: number, n: number) => Float32Array.from(P.subarray(off, off + n));
    if (key.startsWith('rnn.weight_ih')) data = transposeOut(P, lt!.w_ih.offset, shape[0], shape[1]);
    else if (key.startsWith('rnn.weight_hh')) data = transposeOut(P, lt!.w_hh.offset, shape[0], shape[1]);
    else if (key.startsWith('rnn.bias_ih')) data = slice(lt!.b.offset, shape[0]);
    else if (key.startsWith('rnn.bias_hh')) data = lt!.b_hh ? slice(lt!.b_hh.offset, shape[0]) : new Float32Array(shape[0]);
    else if (key === 'decoder.weight') data = transposeOut(P, layout.dec_w.offset, shape[0], shape[1]);
    else data = slice(layout.dec_b.offset, shape[0]);
    stateDict.set(key, { shape, data });
  }
  return { cell: cell as TorchCell, layers: L, hidden: H, vocab: vocab.slice(), stateDict };
}
