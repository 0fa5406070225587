"""Helpers for test/interop/interop.test.ts: PyTorch's side of the comparisons, run with /usr/bin/python3.

  make PREFIX TEXT          stock PyTorch models (every cell, default initialisation, both biases
                            non-zero, plus a -0.0 and a subnormal) saved as PREFIX-{cell}.json
  eval TEXT MODEL...        [{"predictions": N, "loss_nats": x}, ...] as lstm_torch.py eval computes them
  grad TEXT MODEL...        for each model, one plain PyTorch training step's loss and gradients (no
                            folding of biases: every parameter trainable, as in a stock nn.LSTM),
                            T = len(TEXT) - 1, batch 1, zero initial state
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import lstm_torch as lt  # noqa: E402

torch.set_num_threads(1)


def make(prefix, text_path):
    vocab = sorted(set(lt.read_text(text_path)))
    for seed, (cell, L, H) in enumerate((("lstm", 2, 6), ("gru", 1, 5), ("rnn", 2, 4))):
        torch.manual_seed(seed + 11)
        m = lt.CharModel(len(vocab), H, L, cell)
        with torch.no_grad():
            m.rnn.weight_ih_l0[0, 0] = -0.0
            m.rnn.weight_hh_l0[0, 0] = 1e-45  # the smallest float32 subnormal
        lt.save_model(f"{prefix}-{cell}.json", m, vocab)


def evaluate(text_path, models):
    out = []
    for path in models:
        m, vocab, _ = lt.load_model(path)
        ids, _, _ = lt.encode(lt.read_text(text_path), vocab, False, text_path)
        loss, n = lt.evaluate(m, ids, 1, 256)
        out.append({"predictions": n, "loss_nats": loss})
    print(json.dumps(out))


def grad(text_path, *models):
    out = []
    for path in models:
        m, vocab, _ = lt.load_model(path)
        ids, _, _ = lt.encode(lt.read_text(text_path), vocab, False, text_path)
        T = len(ids) - 1
        logits, _ = m(ids[:T].view(T, 1))
        loss = F.cross_entropy(logits.view(T, -1), ids[1:].view(T))  # the mean over the T predictions
        loss.backward()
        out.append({"loss": loss.item(), "grads": {k: p.grad.reshape(-1).tolist() for k, p in m.named_parameters()}})
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        make(*args)
    elif cmd == "grad":
        grad(*args)
    else:
        evaluate(args[0], args[1:])
