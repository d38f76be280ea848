#!/usr/bin/python3
"""train.py - trains the melodynet network with PyTorch DistributedDataParallel on a token file
of `melodynet prep`, the way `melodynet train` (core/tools/train.c) does, and writes the same .mnet.

    melodynet prep DATA... --valid VALID... -o tokens.bin
    torchrun --nproc_per_node N train/torch/train.py tokens.bin -o OUT.mnet [options]
    python3 train/torch/train.py tokens.bin -o OUT.mnet            (one process)

What is the same as core/tools/train.c: truncated BPTT over B streams (--batch, the global count,
split evenly over the processes) of T events (--seq); each stream plays (tune, transposition)
items one after another from a list of every transposition in the file's range that keeps the
tune in MIDI range, shuffled anew each pass; the recurrent state carries from window to window
and is zeroed where a tune starts (BOS inputs there); the loss is the mean over the window of
-ln p(pitch) - ln p(duration | pitch); AdamW (decoupled decay on the weight matrices only),
gradient-norm clipping, linear warm-up then a factor per epoch, dropout between LSTM layers,
PyTorch's default initialisation; validation in bits/event, each tune from its start in its own
key (DESIGN.md); the best model kept, early stopping, the metadata keys of `melodynet train`.
The items are shuffled as the C trainer shuffles them (its generator and seed), so started from
the same weights (--init a model the C trainer wrote at step 0) without dropout, a run takes the
C trainer's steps; the initialisation and dropout masks come from PyTorch's generator. With the
same global batch, any number of processes gives the same run (up to float summation order)
when dropout is 0.

Rank 0 writes OUT (when the valid figure improves, or every epoch without --valid), OUT.csv and
the checkpoint (every epoch); --resume continues a run from it.
"""
import argparse
import csv
import datetime
import math
import os
import shlex
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnet import N_PITCH, PITCH_BOS, REST, MelodyNet, Tokens, load_mnet, save_mnet  # noqa: E402

CKPT_VERSION = 1


def parse_args(argv):
    p = argparse.ArgumentParser(prog="train.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("tokens", help="token file written by `melodynet prep`")
    a("-o", "--output", required=True, help="model file to write (.mnet)")
    a("--init", help="start from this model's weights and sizes (its duration table must be "
                     "the token file's: prep with --model MODEL)")
    a("--layers", type=int, default=2, help="LSTM layers (default 2)")
    a("--hidden", type=int, default=256, help="hidden size (default 256)")
    a("--embed", type=int, default=64, help="embedding size (default 64)")
    a("--pos", type=int, default=192, help="metric position classes, 0 = none (default 192)")
    a("--epochs", type=int, default=10, help="epochs (default 10)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--batch", type=int, help="streams per step over all processes (default 32)")
    g.add_argument("--batch-per-process", type=int, help="streams per step in each process")
    a("--seq", type=int, default=64, help="events per window of truncated BPTT (default 64)")
    a("--lr", type=float, default=2e-3, help="peak learning rate (default 0.002)")
    a("--lr-decay", type=float, default=0.7, help="learning-rate factor per epoch (default 0.7)")
    a("--warmup", type=int, default=200, help="linear warm-up steps (default 200)")
    a("--weight-decay", type=float, default=0.01, help="AdamW decay of weight matrices (0.01)")
    a("--clip", type=float, default=1.0, help="gradient-norm clip, 0 = off (default 1)")
    a("--dropout", type=float, default=0.0, help="dropout between LSTM layers (default 0)")
    a("--no-augment", action="store_true", help="train in the original keys only")
    a("--seed", type=int, default=1, help="seed of initialisation, shuffles, dropout (1)")
    a("--patience", type=int, default=3, help="stop after N epochs without improvement (3)")
    a("--checkpoint", help="checkpoint file (default OUTPUT.ckpt)")
    a("--resume", help="continue the run saved in this checkpoint")
    a("--license", help="license of the training data, stored in the model")
    a("--threads", type=int, default=1, help="CPU threads per process (default 1)")
    a("--device", choices=("auto", "cpu", "cuda"), default="auto",
      help="auto: CUDA (one GPU per process, NCCL) when available, else CPU (gloo)")
    a("--max-steps", type=int, default=0,
      help="stop after this many steps in all (the partial epoch is validated and written)")
    a("--step-log", help="rank 0 writes step,loss,lr of every step to this CSV file")
    args = p.parse_args(argv)
    for name, v, lo, hi in (("--layers", args.layers, 1, 8), ("--hidden", args.hidden, 1, 4096),
                            ("--embed", args.embed, 1, 1024), ("--pos", args.pos, 0, 1024),
                            ("--epochs", args.epochs, 0, 100000), ("--seq", args.seq, 1, 4096),
                            ("--warmup", args.warmup, 0, 10 ** 8),
                            ("--threads", args.threads, 1, 256)):
        if not lo <= v <= hi:
            p.error(f"{name} expects an integer in {lo}..{hi}, got {v}")
    if not 0 < args.lr < 10 or not 0 < args.lr_decay <= 1 or not 0 <= args.weight_decay < 1:
        p.error("--lr in (0, 10), --lr-decay in (0, 1], --weight-decay in [0, 1) expected")
    if not 0 <= args.dropout <= 0.9 or args.clip < 0:
        p.error("--dropout in 0..0.9 and --clip >= 0 expected")
    return args


# ============================== streams ==============================

M64 = (1 << 64) - 1


class CRng:
    """core/rt/sampler.c's mn_rng: xoshiro256** seeded through splitmix64."""

    def __init__(self, seed):
        x = seed & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))
        if not any(self.s):
            self.s[0] = 1

    def next(self):
        s = self.s
        r = (s[1] * 5) & M64
        result = ((((r << 7) | (r >> 57)) & M64) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 45) | (s[3] >> 19)) & M64
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


def c_shuffle(n, seed, e):
    """The order core/tools/train.c's items_build gives pass e of n items (Fisher-Yates with the
    trainer's generator), so a seed gives the C trainer's sequence of tunes."""
    r = CRng(seed ^ ((0x5851F42D4C957F2D * (e + 1)) & M64))
    order = list(range(n))
    for i in range(n, 1, -1):
        j = int(r.uniform() * i)
        order[i - 1], order[j] = order[j], order[i - 1]
    return np.array(order, dtype=np.int64)


class Streams:
    """The C trainer's batch of B token streams over (tune, shift) items. Every process runs
    the same bookkeeping for all B streams and takes its own rows of each window."""

    def __init__(self, ts, B, T, seed, augment, shift_lo, shift_hi, n_dur):
        self.ts, self.B, self.T, self.seed, self.n_dur = ts, B, T, seed, n_dur
        notes = ts.pitch != REST
        big = np.where(notes, ts.pitch, 255).astype(np.int64)
        small = np.where(notes, ts.pitch, -1).astype(np.int64)
        starts = ts.offsets[:-1]
        lo = np.minimum.reduceat(big, starts)
        hi = np.maximum.reduceat(small, starts)
        items = []
        for i in range(ts.n_tunes):
            if not augment or hi[i] < 0:
                items.append((i, 0))
                continue
            for s in range(shift_lo, shift_hi + 1):
                if lo[i] + s >= 0 and hi[i] + s <= 127:
                    items.append((i, s))
        self.items = np.array(items, dtype=np.int64)
        self.epoch_events = int(ts.tune_events[self.items[:, 0]].sum())
        self.item = np.full(B, -1, dtype=np.int64)
        self.off = np.zeros(B, dtype=np.int64)
        self.set_list(0, 0)

    def set_list(self, e, pos):
        self.list_epoch, self.list_pos = e, pos
        self.order = c_shuffle(len(self.items), self.seed, e)

    def next_item(self):
        if self.list_pos >= len(self.order):
            self.set_list(self.list_epoch + 1, 0)
        it = int(self.order[self.list_pos])
        self.list_pos += 1
        return it

    def state(self):
        return {"list_epoch": self.list_epoch, "list_pos": self.list_pos,
                "item": self.item.copy(), "off": self.off.copy()}

    def load_state(self, s):
        self.set_list(int(s["list_epoch"]), int(s["list_pos"]))
        self.item[:] = s["item"]
        self.off[:] = s["off"]

    def window(self):
        """in_p, in_d, in_q, tg_p, tg_d [B, T] int64 and reset [B, T] bool."""
        B, T, ts = self.B, self.T, self.ts
        in_p = np.empty((B, T), np.int64)
        in_d, in_q = np.empty_like(in_p), np.empty_like(in_p)
        tg_p, tg_d = np.empty_like(in_p), np.empty_like(in_p)
        reset = np.zeros((B, T), bool)
        for b in range(B):
            i = 0
            while i < T:
                tune = int(self.items[self.item[b], 0]) if self.item[b] >= 0 else -1
                if tune < 0 or self.off[b] >= ts.tune_events[tune]:
                    self.item[b] = self.next_item()
                    self.off[b] = 0
                    tune = int(self.items[self.item[b], 0])
                shift = int(self.items[self.item[b], 1])
                a, n, off = int(ts.offsets[tune]), int(ts.tune_events[tune]), int(self.off[b])
                k = min(T - i, n - off)
                idx = np.arange(a + off, a + off + k)
                p = ts.pitch[idx].astype(np.int64)
                tg_p[b, i:i + k] = np.where(p == REST, REST, p + shift)
                tg_d[b, i:i + k] = ts.dur[idx]
                in_q[b, i:i + k] = ts.pos[idx]
                if off == 0:
                    prev = idx[1:] - 1
                    in_p[b, i], in_d[b, i], reset[b, i] = PITCH_BOS, self.n_dur, True
                    j = i + 1
                else:
                    prev = idx - 1
                    j = i
                q = ts.pitch[prev].astype(np.int64)
                in_p[b, j:i + k] = np.where(q == REST, REST, q + shift)
                in_d[b, j:i + k] = ts.dur[prev]
                i += k
                self.off[b] = off + k
        return in_p, in_d, in_q, tg_p, tg_d, reset


# ============================== model over a window ==============================

class WindowLoss(nn.Module):
    """The mean loss of a window from a carried state, zeroing the state of a stream where its
    tune starts: the window is run in segments cut at every such step."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, in_p, in_d, in_q, reset, tg_p, tg_d, h, c, cuts):
        x = self.net.inputs(in_p, in_d, in_q)
        outs = []
        for s, e in zip(cuts[:-1], cuts[1:]):
            keep = (~reset[:, s]).to(x.dtype).view(1, -1, 1)
            h, c = h * keep, c * keep
            o, (h, c) = self.net.lstm(x[:, s:e], (h, c))
            outs.append(o)
        top = torch.cat(outs, dim=1)
        lp = self.net.pitch_logits(top).reshape(-1, N_PITCH)
        ld = self.net.dur_logits(top, tg_p).reshape(-1, self.net.n_dur)
        loss = F.cross_entropy(lp, tg_p.reshape(-1)) + F.cross_entropy(ld, tg_d.reshape(-1))
        return loss, h, c


def cut_points(reset):
    """0, every step where some stream's tune starts, and T."""
    T = reset.shape[1]
    starts = np.nonzero(reset.any(axis=0))[0]
    return [0] + [int(t) for t in starts if t > 0] + [T]


@torch.no_grad()
def evaluate(net, ts, device, batch_tunes=64):
    """(bits_pitch, bits_dur, events) of a token set per DESIGN.md: each tune from its start
    with a zero state, in its own key."""
    was = net.training
    net.eval()
    order = np.argsort(ts.tune_events, kind="stable")
    sp = sd = 0.0
    count = 0
    for k in range(0, len(order), batch_tunes):
        chunk = order[k:k + batch_tunes]
        n_max = int(ts.tune_events[chunk].max())
        b = len(chunk)
        in_p = np.full((b, n_max), PITCH_BOS, np.int64)
        in_d = np.full((b, n_max), net.n_dur, np.int64)
        in_q = np.zeros((b, n_max), np.int64)
        tg_p = np.full((b, n_max), REST, np.int64)
        tg_d = np.zeros((b, n_max), np.int64)
        mask = np.zeros((b, n_max), bool)
        for r, i in enumerate(chunk):
            p, d, q = ts.tune(i)
            n = len(p)
            tg_p[r, :n], tg_d[r, :n], in_q[r, :n], mask[r, :n] = p, d, q, True
            in_p[r, 1:n], in_d[r, 1:n] = p[:-1], d[:-1]
        t = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        h, _ = net(t(in_p), t(in_d), t(in_q))
        m = t(mask)
        lp = F.cross_entropy(net.pitch_logits(h)[m], t(tg_p)[m], reduction="sum")
        ld = F.cross_entropy(net.dur_logits(h, t(tg_p))[m], t(tg_d)[m], reduction="sum")
        sp += float(lp)
        sd += float(ld)
        count += int(mask.sum())
    net.train(was)
    return sp / count / math.log(2), sd / count / math.log(2), count


# ============================== run ==============================

def lr_at(args, step, spe):
    lr = args.lr
    if args.warmup > 0 and step < args.warmup:
        lr *= (step + 1) / args.warmup
    return lr * args.lr_decay ** (step // spe)


def clip_grads(params, clip):
    """The C trainer's clip: scale every gradient by clip / norm when the norm (over all
    parameters, summed in double) exceeds clip."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    if clip > 0 and norm > clip:
        for g in grads:
            g.mul_(clip / norm)
    return norm


def train_command(argv):
    args = " ".join(shlex.quote(a) for a in argv)
    if "TORCHELASTIC_RUN_ID" in os.environ or "LOCAL_WORLD_SIZE" in os.environ:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        nodes = max(1, world // max(1, local))
        return (f"torchrun --nnodes {nodes} --nproc_per_node {local} train/torch/train.py "
                f"{args}")
    return f"python3 train/torch/train.py {args}"


def run_config(args, net, B, durations):
    """What a checkpoint must agree on to be resumed (as the C trainer's config_equal)."""
    return {"L": net.L, "H": net.H, "E": net.E, "n_pos": net.n_pos, "durations": list(durations),
            "batch": B, "seq": args.seq, "lr": args.lr, "lr_decay": args.lr_decay,
            "warmup": args.warmup, "weight_decay": args.weight_decay, "clip": args.clip,
            "dropout": args.dropout, "seed": args.seed, "augment": not args.no_augment}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        sys.exit("train.py: --device cuda but CUDA is not available")
    device = torch.device(f"cuda:{local_rank}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    torch.set_num_threads(args.threads)

    def say(msg):
        if rank == 0:
            print(f"train.py: {msg}", file=sys.stderr, flush=True)

    try:
        tokens = Tokens(args.tokens)
    except (OSError, ValueError) as e:
        sys.exit(f"train.py: {e}")
    durations = tokens.durations
    torch.manual_seed(args.seed)
    if args.init:
        try:
            net, init_dur, _ = load_mnet(args.init)
        except (OSError, ValueError) as e:
            sys.exit(f"train.py: {e}")
        if init_dur != durations:
            sys.exit(f"train.py: {args.init} has another duration table than {args.tokens} "
                     f"(write the tokens with `melodynet prep --model {args.init}`)")
    else:
        net = MelodyNet(args.layers, args.hidden, args.embed, args.pos, len(durations))
    net.to(device)
    if net.L > 1:
        net.lstm.dropout = args.dropout
    B = args.batch if args.batch else (args.batch_per_process or 0) * world or 32
    if B % world:
        sys.exit(f"train.py: batch {B} does not split evenly over {world} processes")
    b = B // world
    T = args.seq
    streams = Streams(tokens.train, B, T, args.seed, not args.no_augment, tokens.shift_lo,
                      tokens.shift_hi, len(durations))
    spe = max(1, -(-streams.epoch_events // (B * T)))
    n_params = sum(p.numel() for p in net.parameters())
    say(f"L={net.L} H={net.H} E={net.E} pos={net.n_pos} durations={len(durations)}, {n_params} "
        f"parameters; batch {B} x {T} ({world} process{'es' if world > 1 else ''} of {b} "
        f"streams, {device.type}), {streams.epoch_events} events ({spe} steps) per epoch")
    if args.warmup > spe * args.epochs:
        say(f"warning: the warm-up ({args.warmup} steps) is longer than the run "
            f"({spe * args.epochs} steps): the rate never reaches --lr")

    # weight decay on the weight matrices only, as core/tools/train.c: not on biases or embeddings
    decay = [p for n, p in net.named_parameters()
             if n.startswith("lstm.weight") or (n.startswith("head_") and n.endswith(".weight"))]
    decay_ids = {id(p) for p in decay}
    rest = [p for p in net.parameters() if id(p) not in decay_ids]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": rest, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    H, L = net.H, net.L
    h = torch.zeros(L, b, H, device=device)
    c = torch.zeros(L, b, H, device=device)
    step, epoch, best, bad = 0, 0, 0.0, 0
    ckpt_path = args.checkpoint or args.output + ".ckpt"
    cfg = run_config(args, net, B, durations)
    tokens_crc = open(args.tokens, "rb").read()[-4:]
    if args.resume:
        ck = torch.load(args.resume, map_location="cpu")
        if ck.get("version") != CKPT_VERSION:
            sys.exit(f"train.py: {args.resume}: not a checkpoint of this trainer")
        if ck["config"] != cfg:
            diff = [k for k in cfg if ck["config"].get(k) != cfg[k]]
            sys.exit(f"train.py: {args.resume}: the checkpoint's configuration differs from "
                     f"this run ({', '.join(diff)})")
        if ck["tokens_crc"] != tokens_crc:
            sys.exit(f"train.py: {args.resume}: the checkpoint was made from other tokens")
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        streams.load_state(ck["streams"])
        step, epoch, best, bad = ck["step"], ck["epoch"], ck["best"], ck["bad"]
        h.copy_(ck["carry_h"][:, rank * b:(rank + 1) * b])
        c.copy_(ck["carry_c"][:, rank * b:(rank + 1) * b])
        say(f"resuming {args.resume} at step {step} (epoch {epoch})")

    model = WindowLoss(net)
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if use_cuda
                                                    else None)
    meta_base = {"train_data": tokens.train.source, "train_command": train_command(argv),
                 "license": args.license or "unspecified"}
    csv_f = step_f = None
    if rank == 0:
        new = not (args.resume and os.path.exists(args.output + ".csv"))
        csv_f = open(args.output + ".csv", "w" if new else "a", newline="")
        if new:
            csv_f.write("epoch,step,train_loss,valid_bits_pitch,valid_bits_duration,"
                        "valid_bits_total,lr,tokens_per_s,elapsed_s\n")
        if args.step_log:
            step_f = open(args.step_log, "w")
            step_f.write("step,loss,lr\n")
    if tokens.valid is None:
        say(f"no validation set in {args.tokens}: {args.output} will hold the last epoch's model")

    t0 = time.time()
    train_s = train_cpu = 0.0   # wall and CPU time in training steps (rank 0)
    steps0 = step
    done_epochs = epoch
    stop = False
    params = list(net.parameters())
    while epoch < args.epochs and not stop:
        end = (epoch + 1) * spe
        loss_sum, loss_n = 0.0, 0
        while step < end:
            ts0, tc0 = time.time(), time.process_time()
            in_p, in_d, in_q, tg_p, tg_d, reset = streams.window()
            rows = slice(rank * b, (rank + 1) * b)
            t = lambda a: torch.from_numpy(np.ascontiguousarray(a[rows])).to(device)  # noqa: E731
            cuts = cut_points(reset[rows])
            lr = lr_at(args, step, spe)
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss, h, c = model(t(in_p), t(in_d), t(in_q), t(reset), t(tg_p), t(tg_d), h, c, cuts)
            loss.backward()
            clip_grads(params, args.clip)
            opt.step()
            h, c = h.detach(), c.detach()
            step += 1
            lv = loss.detach().clone()
            if world > 1:
                dist.all_reduce(lv)
                lv /= world
            lv = float(lv)
            train_s += time.time() - ts0
            train_cpu += time.process_time() - tc0
            loss_sum += lv
            loss_n += 1
            if step_f:
                step_f.write(f"{step},{lv:.9g},{lr:.9g}\n")
            if rank == 0 and (step % max(1, spe // 10) == 0 or step == end):
                tok_s = (step - steps0) * B * T / max(1e-9, time.time() - t0)
                print(f"epoch {epoch + 1}/{args.epochs} {100 * (step - epoch * spe) / spe:5.1f}%"
                      f"  {tok_s:.0f} tok/s  loss {lv / math.log(2):.3f} bits", file=sys.stderr,
                      flush=True)
            if args.max_steps and step >= args.max_steps:
                stop = True
                break
        done_epochs = epoch + 1 if step >= end else epoch + (step - epoch * spe) / spe
        epoch = epoch + 1 if step >= end else epoch
        vb = None
        decision = torch.zeros(2, dtype=torch.int64, device=device)  # NCCL: on the GPU
        if rank == 0:
            improved = True
            if tokens.valid is not None:
                vb = evaluate(net, tokens.valid, device)
                total = vb[0] + vb[1]
                improved = best == 0 or total < best
                print(f"epoch {done_epochs:g}: valid bits/event pitch {vb[0]:.4f}  duration "
                      f"{vb[1]:.4f}  total {total:.4f}{'  (best)' if improved else ''}",
                      file=sys.stderr, flush=True)
                if improved:
                    best, bad = total, 0
                else:
                    bad += 1
            tok_s = (step - steps0) * B * T / max(1e-9, time.time() - t0)
            csv_f.write(f"{done_epochs:.4f},{step},{loss_sum / max(1, loss_n):.5f},"
                        + (f"{vb[0]:.5f},{vb[1]:.5f},{vb[0] + vb[1]:.5f}," if vb else ",,,")
                        + f"{lr_at(args, step, spe):.6g},{tok_s:.1f},{time.time() - t0:.1f}\n")
            csv_f.flush()
            if improved:
                meta = dict(meta_base)
                meta.update({"train_date": datetime.datetime.utcnow().strftime(
                                 "%Y-%m-%dT%H:%M:%SZ"),
                             "epochs": f"{done_epochs:g}", "params": str(n_params)})
                if vb:
                    meta.update({"valid_data": tokens.valid.source,
                                 "valid_bits_pitch": f"{vb[0]:.4f}",
                                 "valid_bits_duration": f"{vb[1]:.4f}",
                                 "valid_bits_total": f"{vb[0] + vb[1]:.4f}"})
                save_mnet(net, args.output, durations, meta)
            decision[0] = int(tokens.valid is not None and args.patience > 0
                              and bad >= args.patience)
            decision[1] = bad
        if world > 1:
            dist.broadcast(decision, 0)
        bad = int(decision[1])
        # checkpoint: every process's share of the carried state, gathered on rank 0
        if world > 1:
            hs = [torch.empty_like(h) for _ in range(world)]
            cs = [torch.empty_like(c) for _ in range(world)]
            dist.all_gather(hs, h)
            dist.all_gather(cs, c)
            full_h, full_c = torch.cat(hs, dim=1), torch.cat(cs, dim=1)
        else:
            full_h, full_c = h, c
        if rank == 0:
            tmp = f"{ckpt_path}.tmp{os.getpid()}"
            torch.save({"version": CKPT_VERSION, "config": cfg, "tokens_crc": tokens_crc,
                        "model": net.state_dict(), "optim": opt.state_dict(),
                        "streams": streams.state(), "step": step, "epoch": epoch, "best": best,
                        "bad": bad, "carry_h": full_h.cpu(), "carry_c": full_c.cpu()}, tmp)
            os.replace(tmp, ckpt_path)
        if int(decision[0]):
            say(f"no improvement for {bad} epochs, stopping")
            stop = True
    if rank == 0:
        if tokens.valid is not None:
            print(f"{args.output}: best valid bits/event {best:.4f} after {done_epochs:g} "
                  f"epochs, {step} steps")
        else:
            print(f"{args.output}: {done_epochs:g} epochs, {step} steps")
        n = (step - steps0) * B * T
        say(f"{step - steps0} steps of {B * T} events in {train_s:.1f} s of training: "
            f"{n / max(1e-9, train_s):.0f} tokens/s over {world} process"
            f"{'es' if world > 1 else ''}, {n / world / max(1e-9, train_cpu):.0f} per CPU second "
            f"of rank 0")
        csv_f.close()
        if step_f:
            step_f.close()
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
