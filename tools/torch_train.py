#!/usr/bin/python3
"""torch_train.py - trains the melodynet architecture in PyTorch (Debian's python3-torch) and
writes a .mnet model. It is the reference the C trainer is measured against (same model, same
batch shape, same schedule) and can produce a bundled model on machines where PyTorch is at hand.

Events follow DESIGN.md: a monophonic line at 24 ticks per quarter, rests between notes, the
metric position of each onset from the time signature. Corpus files are read with mido.

usage: /usr/bin/python3 tools/torch_train.py --train LIST... --valid LIST... -o MODEL.mnet
       [--epochs 3] [--hidden 256] [--layers 2] [--embed 64] [--pos 192] [--threads 2]
"""
import argparse
import datetime
import math
import os
import random
import sys
import time

import mido
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from torch_model import MelodyNet, save_mnet  # noqa: E402  (the reference network and writer)

TPQ = 24
REST = 128
N_PITCH = 129
BOS_PITCH = 129


# ---------------------------------------------------------------- events ----

def read_events(path):
    """Events [(pitch, dur_ticks, pos_ticks, bar_ticks)] of a MIDI file, or None."""
    mf = mido.MidiFile(path)
    div = mf.ticks_per_beat
    notes = []      # (on, off, pitch)
    ts = []         # (tick, num, den)
    for tr in mf.tracks:
        t = 0
        active = {}
        for msg in tr:
            t += msg.time
            if msg.type == 'time_signature':
                ts.append((t, msg.numerator, msg.denominator))
            elif msg.type == 'note_on' and msg.velocity > 0:
                if (msg.channel, msg.note) in active:
                    on = active.pop((msg.channel, msg.note))
                    notes.append((on, t, msg.note))
                active[(msg.channel, msg.note)] = t
            elif msg.type in ('note_off', 'note_on'):
                on = active.pop((msg.channel, msg.note), None)
                if on is not None:
                    notes.append((on, t, msg.note))
        for (ch, p), on in active.items():
            notes.append((on, t, p))
    if not notes:
        return None
    notes.sort(key=lambda n: (n[0], -n[2]))
    line = []
    for on, off, p in notes:
        if line and on < line[-1][1]:
            if on == line[-1][0] or p <= line[-1][2]:
                continue
            line[-1][1] = on
        line.append([on, off, p])
    q = lambda t: int(math.floor(t * TPQ / div + 0.5))
    ts.sort()
    if not ts or ts[0][0] > 0:
        ts.insert(0, (0, 4, 4))

    def position(tick24):
        anchor, bar = 0, 96
        for t, num, den in ts:
            t24 = q(t)
            if t24 > tick24:
                break
            anchor, bar = t24, max(1, min(TPQ * 32, num * 4 * TPQ // den))
        return (tick24 - anchor) % bar, bar

    ev = []
    prev_off = None
    for on, off, p in line:
        a, b = q(on), q(off)
        if prev_off is not None and a - prev_off > 0:
            pos, bar = position(prev_off)
            ev.append((REST, min(a - prev_off, TPQ * 64), pos, bar))
        pos, bar = position(a)
        ev.append((p, min(max(b - a, 1), TPQ * 64), pos, bar))
        prev_off = max(b, a + 1)
    return ev


def expand(args):
    out = []
    for a in args:
        if os.path.isdir(a):
            for root, _, files in sorted(os.walk(a)):
                out += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(('.mid', '.midi'))]
        elif a.endswith('.txt'):
            d = os.path.dirname(a)
            with open(a) as f:
                out += [os.path.join(d, l.strip()) for l in f if l.strip() and not l.startswith('#')]
        else:
            out.append(a)
    return out


def load(args):
    tunes = []
    for p in expand(args):
        try:
            ev = read_events(p)
        except Exception as e:  # a corpus file that mido cannot read is skipped, as in C
            print(f"skipping {p}: {e}", file=sys.stderr)
            continue
        if ev:
            tunes.append(ev)
    return tunes


def dur_table(tunes, n=32):
    counts = {}
    for t in tunes:
        for e in t:
            counts[e[1]] = counts.get(e[1], 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return sorted(d for d, _ in top)


def dur_index(table, d):
    ld = math.log(max(d, 1))
    best, bd = 0, float('inf')
    for i, t in enumerate(table):
        x = abs(math.log(t) - ld)
        if x < bd - 1e-12:
            best, bd = i, x
    return best


# ------------------------------------------------------------- training ----

def tokens(tune, table, n_pos, shift=0):
    """(p_in, d_in, pos_in, p_out, d_out) lists for one tune."""
    p = [e[0] if e[0] == REST else e[0] + shift for e in tune]
    d = [dur_index(table, e[1]) for e in tune]
    pos = [min(e[2], max(n_pos - 1, 0)) for e in tune]
    return [BOS_PITCH] + p[:-1], [len(table)] + d[:-1], pos, p, d


def make_streams(tunes, table, n_pos, B, T, rng):
    """Batches [n_windows] of (arrays [B,T] x5, reset[B]) for one epoch: every tune in every
    transposition -6..+5 that keeps it in MIDI range, shuffled, padded to whole windows so that
    no window spans two tunes; reset marks rows whose window starts a tune."""
    items = []
    for t in tunes:
        ps = [e[0] for e in t if e[0] != REST]
        for s in range(-6, 6):
            if min(ps) + s >= 0 and max(ps) + s <= 127:
                items.append((t, s))
    rng.shuffle(items)
    rows = [[] for _ in range(B)]   # per row: list of (tok arrays chunk, reset)
    lens = [0] * B
    for t, s in items:
        r = min(range(B), key=lambda i: lens[i])
        pi, di, qi, po, do = tokens(t, table, n_pos, s)
        n = len(po)
        pad = (-n) % T
        for k in range(0, n + pad, T):
            sl = slice(k, k + T)
            chunk = [pi[sl], di[sl], qi[sl], po[sl], do[sl]]
            m = len(chunk[0])
            if m < T:
                chunk = [c + [0] * (T - m) for c in chunk[:3]] + [c + [-100] * (T - m) for c in chunk[3:]]
            rows[r].append((chunk, k == 0))
        lens[r] += (n + pad) // T
    n_win = min(lens)
    for w in range(n_win):
        arr = np.zeros((5, B, T), dtype=np.int64)
        reset = np.zeros(B, dtype=np.float32)
        for b in range(B):
            chunk, rs = rows[b][w]
            for j in range(5):
                arr[j, b] = chunk[j]
            reset[b] = rs
        yield arr, reset


@torch.no_grad()
def evaluate(model, tunes, table, n_pos):
    """Bits/event per DESIGN.md: whole tunes, original key, state reset per tune."""
    model.eval()
    bp = bd = 0.0
    n = 0
    order = sorted(range(len(tunes)), key=lambda i: len(tunes[i]))
    for k in range(0, len(order), 64):
        group = [tunes[i] for i in order[k:k + 64]]
        T = max(len(t) for t in group)
        arr = np.zeros((5, len(group), T), dtype=np.int64)
        arr[3:] = -100
        for b, t in enumerate(group):
            toks = tokens(t, table, n_pos)
            for j in range(5):
                arr[j, b, :len(t)] = toks[j]
        x = torch.from_numpy(arr)
        h, _ = model(x[0], x[1], x[2])
        mask = x[3] >= 0
        tp, td = x[3].clamp(min=0), x[4].clamp(min=0)
        lp = torch.log_softmax(model.pitch_logits(h), -1).gather(-1, tp[..., None])[..., 0]
        ld = torch.log_softmax(model.dur_logits(h, tp), -1).gather(-1, td[..., None])[..., 0]
        bp -= lp[mask].double().sum().item() / math.log(2)
        bd -= ld[mask].double().sum().item() / math.log(2)
        n += int(mask.sum())
    model.train()
    return bp / n, bd / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--valid", nargs="+", action="append", default=[])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--pos", type=int, default=192)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-decay", type=float, default=0.7)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-durations", type=int, default=32)
    ap.add_argument("--license", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    t0 = time.time()
    train = load(a.train)
    valids = [(v, load(v)) for v in a.valid]
    table = dur_table(train, a.max_durations)
    print(f"{len(train)} training tunes, {sum(map(len, train))} events; durations {table}", file=sys.stderr)
    model = MelodyNet(a.layers, a.hidden, a.embed, a.pos, len(table))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    ce = nn.CrossEntropyLoss(ignore_index=-100, reduction="sum")
    best = None
    log = open(a.output + ".torch.csv", "w")
    log.write("epoch,step,train_loss,valid_bits_pitch,valid_bits_duration,valid_bits_total,lr,tokens_per_s,elapsed_s\n")
    step = 0
    for epoch in range(1, a.epochs + 1):
        for g in opt.param_groups:
            g["lr"] = a.lr * a.lr_decay ** (epoch - 1)
        windows = list(make_streams(train, table, a.pos, a.batch, a.seq, rng))
        state = None
        tok = 0
        run = 0.0
        te = time.time()
        for i, (arr, reset) in enumerate(windows):
            x = torch.from_numpy(arr)
            if state is not None:
                keep = torch.from_numpy(1.0 - reset)[None, :, None]
                state = tuple(s.detach() * keep for s in state)
            h, state = model(x[0], x[1], x[2], state)
            tp = x[3]
            loss = ce(model.pitch_logits(h).reshape(-1, N_PITCH), tp.reshape(-1)) + \
                ce(model.dur_logits(h, tp.clamp(min=0)).reshape(-1, len(table)), x[4].reshape(-1))
            n = int((tp >= 0).sum())
            opt.zero_grad()
            (loss / max(n, 1)).backward()
            nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            step += 1
            tok += n
            run = 0.98 * run + 0.02 * loss.item() / max(n, 1) if i else loss.item() / max(n, 1)
            if i % 50 == 0 or i == len(windows) - 1:
                el = time.time() - te
                eta = el / (i + 1) * (len(windows) - i - 1)
                print(f"\repoch {epoch} {100 * (i + 1) / len(windows):5.1f}% loss {run:.3f} "
                      f"{tok / max(el, 1e-9):7.0f} tok/s eta {eta / 60:5.1f} min", end="", file=sys.stderr)
                log.write(f"{epoch - 1 + (i + 1) / len(windows):.4f},{step},{run:.5f},,,,{opt.param_groups[0]['lr']:.6g},"
                          f"{tok / max(el, 1e-9):.0f},{time.time() - t0:.1f}\n")
                log.flush()
        print(file=sys.stderr)
        scores = []
        for name, vt in valids:
            bp, bd = evaluate(model, vt, table, a.pos)
            scores.append((name, bp, bd))
            print(f"epoch {epoch} valid {' '.join(name)}: pitch {bp:.4f} duration {bd:.4f} total {bp + bd:.4f} bits/event",
                  file=sys.stderr)
        tot = sum(s[1] + s[2] for s in scores) / max(len(scores), 1)
        log.write(f"{epoch},{step},{run:.5f},{sum(s[1] for s in scores) / max(len(scores), 1):.5f},"
                  f"{sum(s[2] for s in scores) / max(len(scores), 1):.5f},{tot:.5f},{opt.param_groups[0]['lr']:.6g},,{time.time() - t0:.1f}\n")
        log.flush()
        if best is None or tot < best:
            best = tot
            meta = {"train_data": " ".join(a.train), "train_command": " ".join(sys.argv),
                    "train_date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "trainer": "tools/torch_train.py (PyTorch " + torch.__version__ + ")",
                    "epochs": str(epoch), "params": str(sum(p.numel() for p in model.parameters())),
                    "valid_bits": "; ".join(f"{' '.join(n)}: pitch {bp:.4f} duration {bd:.4f}" for n, bp, bd in scores),
                    "valid_bits_pitch": f"{sum(s[1] for s in scores) / max(len(scores), 1):.4f}",
                    "valid_bits_duration": f"{sum(s[2] for s in scores) / max(len(scores), 1):.4f}",
                    "valid_bits_total": f"{tot:.4f}"}
            if a.license:
                meta["license"] = a.license
            save_mnet(model, a.output + ".tmp", table, meta)
            os.replace(a.output + ".tmp", a.output)
            print(f"wrote {a.output} (epoch {epoch})", file=sys.stderr)
    print(f"done in {(time.time() - t0) / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
