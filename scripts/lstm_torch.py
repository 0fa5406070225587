#!/usr/bin/env python3
"""lstm_torch.py: the PyTorch side of `lstm`, for when a model outgrows one machine.

It defines the module that the exchange format lstm-torch/1 describes, reads and writes that
format, evaluates a text exactly as `lstm eval` does, and trains with the protocol of `lstm train`
(B contiguous streams, truncated BPTT with the state carried between chunks and reset at each
epoch's end, the loss averaged over batch x time, Adam/RMSprop/Adagrad/SGD as torch.optim has them,
global-norm clipping) on a CPU, on a CUDA GPU, or on many processes and machines with torchrun and
DistributedDataParallel. Needs only Python 3 and torch.

  python3 scripts/lstm_torch.py eval MODEL.json TEXT [--json] [--skip-unknown]
  python3 scripts/lstm_torch.py train CORPUS --out MODEL.json [--cell lstm --layers 2 --hidden 512 ...]
  torchrun --nproc_per_node 4 scripts/lstm_torch.py train CORPUS --out MODEL.json --batch-size 128 ...

Then `lstm import MODEL.json --out CKPT` makes it a checkpoint for `lstm sample`, `lstm eval`, ...
See docs/pytorch.md for the format and the semantics.
"""

import argparse
import json
import math
import os
import signal
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = "lstm-torch/1"
CELLS = {"lstm": nn.LSTM, "rnn": nn.RNN, "gru": nn.GRU}
LN2 = math.log(2)


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit status 1 (2 for bad arguments)."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


class CharModel(nn.Module):
    """The module of lstm-torch/1: one-hot characters -> L stacked cells -> linear decoder."""

    def __init__(self, V, H, L, cell, dropout=0.0):
        super().__init__()
        # nn.RNN's default nonlinearity is tanh, as in lstm. Dropout acts between stacked layers
        # only, as lstm's --dropout does; it is not part of the saved file.
        self.rnn = CELLS[cell](V, H, L, dropout=dropout)
        self.decoder = nn.Linear(H, V)
        self.V, self.H, self.L, self.cell = V, H, L, cell

    def forward(self, ids, state=None):
        """ids: (T, B) character indices, time-major. Returns logits (T, B, V) and the final state."""
        x = F.one_hot(ids, self.V).to(self.decoder.weight.dtype)
        out, state = self.rnn(x, state)
        return self.decoder(out), state

    def zero_state(self, B, device):
        h = torch.zeros(self.L, B, self.H, device=device)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h


# ---- the exchange format ----------------------------------------------------------------------


def check_vocab(vocab, where):
    if not isinstance(vocab, list) or not vocab:
        raise UserError(f'{where}: "vocab" must be a non-empty list of characters')
    seen = {}
    for i, ch in enumerate(vocab):
        # A Python str is a sequence of code points, as lstm's characters are.
        if not isinstance(ch, str) or len(ch) != 1:
            raise UserError(f"{where}: vocab[{i}] {json.dumps(ch)} is not exactly one character (one Unicode code point)")
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise UserError(f"{where}: vocab[{i}] is a lone surrogate (U+{ord(ch):04X}), not a character")
        if ch in seen:
            raise UserError(f"{where}: vocab[{i}] repeats vocab[{seen[ch]}] ({json.dumps(ch)}); every character may appear once")
        seen[ch] = i


def load_model(path, dropout=0.0):
    """Read an lstm-torch/1 file: (model on the CPU, vocab list, cell name)."""
    data = read_file(path)
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{path} is not a valid {FORMAT} file: {e}")
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        found = obj.get("format") if isinstance(obj, dict) else None
        hint = f"; make one with: lstm export {path} --format torch --out FILE" if found == "lstm-checkpoint" else ""
        raise UserError(f'{path} is not an {FORMAT} file (its "format" is {json.dumps(found)}){hint}')
    cell = obj.get("cell")
    if cell not in CELLS:
        raise UserError(f'{path}: "cell" must be "lstm", "rnn" or "gru", not {json.dumps(cell)}')
    L, H = obj.get("layers"), obj.get("hidden")
    for name, v in (("layers", L), ("hidden", H)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise UserError(f'{path}: "{name}" must be a whole number of at least 1')
    vocab = obj.get("vocab")
    check_vocab(vocab, path)
    sd = obj.get("state_dict")
    if not isinstance(sd, dict):
        raise UserError(f'{path}: "state_dict" must be an object of named arrays')
    model = CharModel(len(vocab), H, L, cell, dropout)
    tensors = {}
    expected = model.state_dict()
    for key, value in sd.items():
        if key not in expected:
            raise UserError(f'{path}: state_dict has an unexpected key "{key}"')
        try:
            t = torch.tensor(value, dtype=torch.float32)
        except (TypeError, ValueError) as e:
            raise UserError(f'{path}: state_dict "{key}" is not an array of numbers ({e})')
        if tuple(t.shape) != tuple(expected[key].shape):
            shape = "×".join(map(str, t.shape))
            want = "×".join(map(str, expected[key].shape))
            raise UserError(f'{path}: state_dict "{key}" has shape {shape}, expected {want}')
        if not torch.isfinite(t).all():
            raise UserError(f'{path}: state_dict "{key}" holds a number that is not finite in float32')
        tensors[key] = t
    for key in expected:
        if key not in tensors:
            raise UserError(f'{path}: state_dict has no "{key}"')
    model.load_state_dict(tensors, strict=True)
    return model, vocab, cell


def save_model(path, model, vocab):
    """Write an lstm-torch/1 file atomically (a temporary file, then a rename)."""
    m = model.module if hasattr(model, "module") else model
    sd = m.state_dict()
    obj = {
        "format": FORMAT, "cell": m.cell, "layers": m.L, "hidden": m.H, "vocab": vocab,
        # tolist() gives the doubles equal to the float32 values; json writes each as the
        # shortest text that reads back as that double, so the file is exact.
        "state_dict": {k: v.detach().to("cpu", torch.float32).tolist() for k, v in sd.items()},
    }
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except ValueError:
        os.unlink(tmp)
        raise UserError(f"the model holds NaN or infinite weights; not writing {path}")
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise UserError(f"could not write {path}: {e.strerror}; the previous file there (if any) is intact")


# ---- text --------------------------------------------------------------------------------------


def read_file(path, what=None):
    """A file's bytes; a missing file, a folder or an unreadable file is one line naming it."""
    label = f"{what} {path}" if what else path
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise UserError(f"{label} does not exist")
    except IsADirectoryError:
        raise UserError(f"{label} is a folder, not a file")
    except PermissionError:
        raise UserError(f"cannot read {label}: permission denied")
    except OSError as e:
        raise UserError(f"cannot read {label}: {e.strerror}")


def read_text(path, what="text"):
    """A UTF-8 file as a str of code points, read as lstm reads it: strict UTF-8, a leading byte order
    mark dropped, line ends kept as they are ("-" = standard input)."""
    data = sys.stdin.buffer.read() if path == "-" else read_file(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{what} {path} is not valid UTF-8: bad byte sequence at byte offset {e.start}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text:
        raise UserError(f"{what} {path} is empty")
    return text


def describe(ch):
    cp = ord(ch)
    shown = json.dumps(ch)[1:-1] if cp < 0x20 or cp == 0x7F else ch
    return f"'{shown}' (U+{cp:04X})"


def encode(text, vocab, skip_unknown, what):
    """Character ids as a LongTensor, and how many characters were left out."""
    index = {ch: i for i, ch in enumerate(vocab)}
    unknown = list(dict.fromkeys(ch for ch in text if ch not in index))
    if unknown and not skip_unknown:
        shown = ", ".join(describe(c) for c in unknown[:10]) + (", …" if len(unknown) > 10 else "")
        s = "s" if len(unknown) > 1 else ""
        raise UserError(f"{what} has {len(unknown)} character{s} not in the model's vocabulary: {shown}; leave {'them' if s else 'it'} out with --skip-unknown")
    ids = [index[ch] for ch in text if ch in index]
    return torch.tensor(ids, dtype=torch.long), len(text) - len(ids), unknown


# ---- evaluation --------------------------------------------------------------------------------


@torch.no_grad()
def evaluate(model, ids, B=1, T=256, device="cpu"):
    """Mean cross-entropy (nats) of ids read as B contiguous streams of S = (n - 1) // B positions,
    each from a zero state carried through the whole stream; all S·B predictions count. With B = 1:
    every character after the first, predicted from all the characters before it (`lstm eval`)."""
    m = model.module if hasattr(model, "module") else model
    was_training = m.training
    m.eval()
    S = (len(ids) - 1) // B
    if S < 1:
        return float("nan"), 0
    ids = ids.to(device)
    base = torch.arange(B, device=device) * S
    state, total = None, 0.0
    for p in range(0, S, T):
        t = min(T, S - p)
        idx = base[None, :] + p + torch.arange(t, device=device)[:, None]  # (t, B)
        logits, state = m(ids[idx], state)
        # In float64, so the sum of many predictions loses nothing.
        total += F.cross_entropy(logits.reshape(-1, m.V).double(), ids[idx + 1].reshape(-1), reduction="sum").item()
    m.train(was_training)
    return total / (S * B), S * B


def cmd_eval(a):
    if a.threads:
        torch.set_num_threads(a.threads)
    device = pick_device(a.device, 0)
    model, vocab, _ = load_model(a.model)
    model.to(device)
    label = "standard input" if a.text == "-" else a.text
    ids, skipped, unknown = encode(read_text(a.text), vocab, a.skip_unknown, label)
    if len(ids) < 2:
        raise UserError(f"{label} has {len(ids)} character{'' if len(ids) == 1 else 's'} the model knows: nothing to predict; eval needs at least 2")
    loss, n = evaluate(model, ids, 1, 256, device)
    report = {"predictions": n, "loss_nats": loss, "bpc": loss / LN2, "perplexity": math.exp(loss)}
    note = (f"skipped {skipped} occurrence{'s' if skipped > 1 else ''} of {len(unknown)} character{'s' if len(unknown) > 1 else ''} "
            f"not in the model's vocabulary; the model read the rest as if they were adjacent") if skipped else ""
    if a.json:
        print(json.dumps(report))
        if note:
            print(f"lstm_torch.py eval: {note}", file=sys.stderr)
        return
    print(f"{label}: {len(ids) + skipped:,} characters, {n:,} predictions (each from all the characters before it)")
    if note:
        print(note)
    print(f"  loss        {loss:.5f} nats per character")
    print(f"  bpc         {loss / LN2:.5f} bits per character")
    print(f"  perplexity  {math.exp(loss):.4f}")


# ---- training ----------------------------------------------------------------------------------


def pick_device(name, local_rank):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise UserError("--device cuda: no CUDA GPU is available to this torch", 2)
        torch.cuda.set_device(local_rank)  # one GPU per process, as NCCL expects
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def fold_biases(model):
    """lstm keeps one bias per LSTM/RNN layer: PyTorch's bias_ih + bias_hh. Train it as lstm does:
    the sum lives in bias_ih and bias_hh stays 0 and frozen. (With both trainable, each gets the
    full gradient and every step moves their sum twice as far as lstm's step moves its bias.)"""
    if model.cell == "gru":  # the GRU's b_hn sits inside r*(...): it needs both, as lstm keeps both
        return
    with torch.no_grad():
        for k in range(model.L):
            b_ih, b_hh = getattr(model.rnn, f"bias_ih_l{k}"), getattr(model.rnn, f"bias_hh_l{k}")
            b_ih += b_hh
            b_hh.zero_()
            b_hh.requires_grad_(False)


def make_optimizer(a, params):
    if a.optimizer == "adam":
        return torch.optim.Adam(params, lr=a.lr)  # betas (0.9, 0.999), eps 1e-8: as lstm
    if a.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=a.lr)  # alpha 0.99, eps 1e-8
    if a.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=a.lr)  # eps 1e-10
    return torch.optim.SGD(params, lr=a.lr, momentum=a.momentum)


def cmd_train(a):
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    main = rank == 0
    if a.threads:
        torch.set_num_threads(a.threads)
    device = pick_device(a.device, local_rank)
    if world > 1:
        # NCCL between GPUs; gloo between CPU processes (and as the fallback for tests on one machine).
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def say(msg):
        if main and not a.quiet:
            print(msg, flush=True)

    if a.batch_size % world != 0:
        raise UserError(f"--batch-size {a.batch_size} must be a multiple of the number of processes ({world}): each takes an equal share of the streams", 2)
    if os.path.exists(a.out) and not a.force:
        raise UserError(f"{a.out} already exists; pick another --out, or add --force to overwrite it", 2)
    out_dir = os.path.dirname(os.path.abspath(a.out))
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot write to {out_dir}: {e.strerror}")
    if not os.access(out_dir, os.W_OK):
        raise UserError(f"cannot write to {out_dir}: permission denied")

    text = read_text(a.corpus, "corpus")
    torch.manual_seed(a.seed)
    if a.init_from:
        model, vocab, cell = load_model(a.init_from, a.dropout)
        for name, mine, theirs in (("cell", a.cell, model.cell), ("layers", a.layers, model.L), ("hidden", a.hidden, model.H)):
            if mine is not None and mine != theirs:
                raise UserError(f"--{name} {mine} differs from {a.init_from}'s {theirs} (the architecture comes from the file)", 2)
        # The file's vocabulary is kept (as lstm train --init-from keeps the checkpoint's).
        ids, _, _ = encode(text, vocab, False, f"corpus {a.corpus}")
    else:
        a.cell, a.layers, a.hidden = a.cell or "lstm", a.layers or 1, a.hidden or 128
        vocab = sorted(set(text))  # by code point, as lstm builds its vocabulary
        index = {ch: i for i, ch in enumerate(vocab)}
        ids = torch.tensor([index[ch] for ch in text], dtype=torch.long)
        model = CharModel(len(vocab), a.hidden, a.layers, a.cell, a.dropout)  # PyTorch's initialisation
        if a.cell == "lstm":
            with torch.no_grad():
                for k in range(a.layers):  # forget gate [i f g o]: bias_ih + bias_hh = --forget-bias
                    getattr(model.rnn, f"bias_ih_l{k}")[a.hidden:2 * a.hidden] = a.forget_bias
                    getattr(model.rnn, f"bias_hh_l{k}")[a.hidden:2 * a.hidden] = 0
    fold_biases(model)
    model.to(device)
    n_val = int(len(ids) * a.val_frac)
    train_ids, val_ids = ids[: len(ids) - n_val].to(device), ids[len(ids) - n_val:]
    B, T = a.batch_size, a.seq_len
    S = (len(train_ids) - 1) // B  # positions per stream
    per_epoch = S // T  # chunks per epoch
    if per_epoch < 1:
        raise UserError(f"corpus {a.corpus} is too short: {len(train_ids)} characters for training, but one batch of {B} streams × {T} steps needs at least {B * T + 1}")
    target = a.steps if a.epochs is None else max(1, math.floor(a.epochs * per_epoch + 0.5))  # JavaScript's Math.round
    if a.epochs is not None and a.steps_given:
        target = min(a.steps, target)

    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(a, params)
    # This process reads streams rank*b ... rank*b + b - 1 of the B; DDP averages the gradients of
    # the equal shares, which is the gradient of the mean over all B x T predictions.
    b = B // world
    base = (torch.arange(b, device=device) + rank * b) * S
    steps_t = torch.arange(T, device=device)[:, None]
    state = model.zero_state(b, device)
    detach = (lambda s: tuple(x.detach() for x in s)) if model.cell == "lstm" else (lambda s: s.detach())
    params_count = sum(p.numel() for n_, p in model.named_parameters() if not n_.startswith("rnn.bias_hh") or model.cell == "gru")
    say(f"Training a {model.L}×{model.H} {model.cell} ({params_count:,} parameters) on {device.type}"
        f"{f' × {world} processes' if world > 1 else ''}: {len(ids):,} characters, {len(vocab)} distinct, {n_val:,} for validation; "
        f"batch {B} × seq {T}, {a.optimizer} lr {a.lr:g}, clip {f'{a.clip:g}' if a.clip else 'off'}; {target} step{'s' if target > 1 else ''} ({per_epoch} per epoch)")

    def validate():
        if len(val_ids) < 2:
            return None
        eb = max(1, min(B, (len(val_ids) - 1) // T))
        return evaluate(model, val_ids, eb, T, device)[0]

    # Ctrl-C (or SIGTERM) in a single process stops between two steps and saves, as lstm train does.
    # Under torchrun the processes would have to agree on the step to stop at; there, --save-every
    # is what keeps the work.
    stop = []
    if world == 1:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.append(True))
    step, t0, loss_sum, since = 0, time.time(), 0.0, 0
    val = None
    net.train()
    while step < target and not stop:
        chunk = step % per_epoch
        idx = base[None, :] + chunk * T + steps_t  # (T, b): stream j's chunk, time-major
        lr = a.lr * a.lr_decay ** (step / per_epoch) if a.lr_decay != 1 else a.lr
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=False)
        logits, new_state = net(train_ids[idx], state)
        loss = F.cross_entropy(logits.reshape(-1, model.V), train_ids[idx + 1].reshape(-1))  # mean over b x T
        loss.backward()
        if a.clip_value > 0:
            nn.utils.clip_grad_value_(params, a.clip_value)
        if a.clip > 0:
            norm = nn.utils.clip_grad_norm_(params, a.clip)
        else:
            norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params))
        if not (math.isfinite(loss.item()) and math.isfinite(float(norm))):
            raise UserError(f"training diverged at step {step + 1} (loss {loss.item()}, gradient norm {float(norm)}); try a lower --lr or a tighter --clip")
        opt.step()
        step += 1
        # The next chunk starts from this chunk's final state, cut from the graph; a new epoch
        # starts every stream from zero.
        state = detach(new_state) if step % per_epoch else model.zero_state(b, device)
        loss_sum += loss.item()
        since += 1
        if a.eval_every and step % a.eval_every == 0 and main:
            val = validate()
        if step % a.log_every == 0 or step == target:
            mean = torch.tensor([loss_sum / since], dtype=torch.float64, device=device)
            if world > 1:
                dist.all_reduce(mean)
                mean /= world
            rate = step * B * T / max(time.time() - t0, 1e-9)
            vtxt = "-" if val is None else f"{val / LN2:.3f}"
            say(f"step {step}/{target} · epoch {(step - 1) // per_epoch + 1} · loss {mean.item():.3f} nats {mean.item() / LN2:.3f} bpc · val {vtxt} bpc · {rate:,.0f} chars/s")
            loss_sum, since = 0.0, 0
        if a.save_every and step % a.save_every == 0 and main:
            save_model(a.out, model, vocab)
    if stop:
        save_model(a.out, model, vocab)
        say(f"Interrupted at step {step}; saved {a.out}")
        raise UserError("interrupted", 130)
    if main:
        val = validate()
        save_model(a.out, model, vocab)
        say(f"Trained {step} step{'s' if step > 1 else ''} in {time.time() - t0:.1f} s" + ("" if val is None else f"; validation {val / LN2:.4f} bits per character") + f"; saved {a.out}")
        say(f"Make it a checkpoint with: lstm import {a.out} --out CKPT")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


# ---- command line ------------------------------------------------------------------------------


def parse(argv):
    p = argparse.ArgumentParser(prog="lstm_torch.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("eval", help="mean cross-entropy of a text, exactly as `lstm eval`")
    e.add_argument("model", help="lstm-torch/1 file")
    e.add_argument("text", help='UTF-8 text, or "-" for standard input')
    e.add_argument("--json", action="store_true", help='print {"predictions": N, "loss_nats": x, "bpc": y, "perplexity": z}')
    e.add_argument("--skip-unknown", action="store_true", help="leave out characters the model does not know")
    e.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    e.add_argument("--threads", type=int, help="CPU threads for torch")

    # Defaults are lstm train's (TRAIN_DEFAULTS in src/commands/train.ts), so the same flags mean the same run.
    t = sub.add_parser("train", help="train with lstm train's protocol; writes an lstm-torch/1 file")
    t.add_argument("corpus", help='UTF-8 training text, or "-" for standard input')
    t.add_argument("--out", required=True, help="lstm-torch/1 file to write (at the end and every --save-every steps)")
    t.add_argument("--force", action="store_true", help="overwrite an existing --out")
    t.add_argument("--init-from", help="start from this lstm-torch/1 file's weights and vocabulary")
    t.add_argument("--cell", choices=list(CELLS), help="default lstm")
    t.add_argument("--layers", type=int, help="default 1")
    t.add_argument("--hidden", type=int, help="default 128")
    t.add_argument("--batch-size", type=int, default=16, help="B streams in all, split evenly over the processes")
    t.add_argument("--seq-len", type=int, default=128)
    t.add_argument("--dropout", type=float, default=0.0)
    t.add_argument("--optimizer", default="adam", choices=["adam", "rmsprop", "adagrad", "sgd"])
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--lr-decay", type=float, default=1.0, help="per epoch, applied smoothly per step")
    t.add_argument("--momentum", type=float, default=0.0)
    t.add_argument("--clip", type=float, default=5.0, help="global gradient norm; 0 = off")
    t.add_argument("--clip-value", type=float, default=0.0)
    t.add_argument("--forget-bias", type=float, default=1.0)
    t.add_argument("--steps", type=int, default=None, help="steps to take (default 10000)")
    t.add_argument("--epochs", type=float, default=None)
    t.add_argument("--val-frac", type=float, default=0.05)
    t.add_argument("--eval-every", type=int, default=500)
    t.add_argument("--save-every", type=int, default=2000)
    t.add_argument("--log-every", type=int, default=500)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    t.add_argument("--threads", type=int, help="CPU threads for torch, per process")
    t.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.threads is not None and a.threads < 1:
        p.error("invalid value for --threads")
    if a.command == "train":
        a.steps_given = a.steps is not None
        if a.steps is None:
            a.steps = 10000
        for name, ok in (("layers", a.layers is None or a.layers >= 1), ("hidden", a.hidden is None or a.hidden >= 1), ("batch-size", a.batch_size >= 1),
                         ("seq-len", a.seq_len >= 1), ("steps", a.steps >= 1), ("lr", a.lr > 0),
                         ("lr-decay", 0 < a.lr_decay <= 1), ("dropout", 0 <= a.dropout < 1), ("momentum", 0 <= a.momentum < 1),
                         ("clip", a.clip >= 0), ("clip-value", a.clip_value >= 0), ("val-frac", 0 <= a.val_frac < 1),
                         ("eval-every", a.eval_every >= 0), ("save-every", a.save_every >= 0), ("log-every", a.log_every >= 1),
                         ("epochs", a.epochs is None or a.epochs > 0)):
            if not ok:
                p.error(f"invalid value for --{name}")
    return a


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    try:
        (cmd_eval if a.command == "eval" else cmd_train)(a)
    except UserError as e:
        if e.status != 130:  # an interrupted run has already said where it saved
            print(f"lstm_torch.py: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
