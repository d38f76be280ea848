#!/usr/bin/python3
"""check.py - the PyTorch side of tests/torch/run.sh. Each verb prints one line and exits 1 on
a failed check:

  logits MODEL TOKENS C_LOGITS   PyTorch's logits for every event of the token file's training
                                 set against session_logits' output (|d| <= 1e-5 + 1e-5 |ref|)
  refuse MODEL DIR               the converter and loader refuse an extra, a misshaped and a
                                 missing tensor, naming it; the .mnet round trip is exact
  tokens TOKENS DIR              the token reader refuses truncated, resized and damaged files
  curves A.csv B.csv             two step logs (step,loss,lr) agree within 1e-4 relative
"""
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "train",
                                "torch"))
import mnet  # noqa: E402

ATOL = RTOL = 1e-5


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def read_c_logits(path):
    tunes = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if w[0] == "tune":
                tunes.append(([], []))
            elif w[0] == "p":
                tunes[-1][0].append([float(x) for x in w[1:]])
            elif w[0] == "d":
                tunes[-1][1].append([float(x) for x in w[1:]])
    return [(np.array(p), np.array(d)) for p, d in tunes]


def torch_logits(model, ts, i):
    p, d, q = ts.tune(i)
    n = len(p)
    t = lambda a: torch.tensor(np.asarray(a, dtype=np.int64)).view(1, -1)  # noqa: E731
    pin = [mnet.PITCH_BOS] + list(p[:-1])
    din = [model.n_dur] + list(d[:-1])
    with torch.no_grad():
        h, _ = model(t(pin), t(din), t(q))
        pl = model.pitch_logits(h)[0].numpy()
        dl = model.dur_logits(h, t(p))[0].numpy()
    assert pl.shape[0] == n
    return pl, dl


def cmd_logits(model_path, tokens_path, c_path):
    model, durations, _ = mnet.load_mnet(model_path)
    tok = mnet.Tokens(tokens_path)
    if tok.durations != durations:
        fail(f"{tokens_path}: durations {tok.durations} are not the model's {durations}")
    c = read_c_logits(c_path)
    if len(c) != tok.train.n_tunes:
        fail(f"C gave {len(c)} tunes, the token file holds {tok.train.n_tunes}")
    worst, events = 0.0, 0
    for i, (cp, cd) in enumerate(c):
        pl, dl = torch_logits(model, tok.train, i)
        if cp.shape != pl.shape or cd.shape != dl.shape:
            fail(f"tune {i}: C shapes {cp.shape} {cd.shape}, PyTorch {pl.shape} {dl.shape}")
        for got, ref in ((cp, pl), (cd, dl)):
            err = np.abs(got - ref) - RTOL * np.abs(ref)
            worst = max(worst, float(np.abs(got - ref).max()))
            if (err > ATOL).any():
                k = np.unravel_index(np.argmax(err), err.shape)
                fail(f"{model_path}: tune {i} event {k[0]} logit {k[1]}: C {got[k]:.9g}, "
                     f"PyTorch {ref[k]:.9g}")
        events += len(pl)
    print(f"logits: {model_path}: {events} events of {len(c)} tunes agree, max |C - PyTorch| "
          f"{worst:.3g}")


def expect_refusal(what, fn, needle):
    try:
        fn()
    except ValueError as e:
        if needle not in str(e):
            fail(f"{what}: refused, but the message does not name {needle}: {e}")
        return str(e)
    fail(f"{what}: accepted")


def cmd_refuse(model_path, d):
    model, durations, meta = mnet.load_mnet(model_path)
    pt = os.path.join(d, "model.pt")
    conv = [sys.executable, mnet.__file__]
    if mnet.main(["to-torch", model_path, pt]):
        fail("mnet.py to-torch failed")
    back = os.path.join(d, "back.mnet")
    if mnet.main(["to-mnet", pt, back]):
        fail("mnet.py to-mnet failed")
    m1, t1 = mnet.read_mnet(model_path)
    m2, t2 = mnet.read_mnet(back)
    if set(t1) != set(t2) or any(not np.array_equal(t1[k], t2[k]) for k in t1) or m1 != m2:
        fail(f"{model_path} -> .pt -> .mnet changed the tensors or metadata")
    obj = torch.load(pt)
    sd = obj["state_dict"]
    msgs = []
    # an extra tensor in a state dict (e.g. from a modified network)
    extra = dict(sd, **{"lstm.weight_ih_l9": torch.zeros(3, 3)})
    msgs.append(expect_refusal("extra tensor", lambda: mnet.state_dict_to_model(
        extra, durations), "lstm.weight_ih_l9"))
    # a misshaped one
    bad = dict(sd)
    bad["head_dur.weight"] = torch.zeros(sd["head_dur.weight"].shape[0], 5)
    msgs.append(expect_refusal("misshaped tensor", lambda: mnet.state_dict_to_model(
        bad, durations), "head_dur.weight"))
    # a missing one
    miss = {k: v for k, v in sd.items() if k != "head_pitch.bias"}
    msgs.append(expect_refusal("missing tensor", lambda: mnet.state_dict_to_model(
        miss, durations), "head_pitch.bias"))
    # the same through the command: exit 1 and one line naming the tensor
    torch.save(dict(obj, state_dict=extra), os.path.join(d, "extra.pt"))
    r = subprocess.run(conv + ["to-mnet", os.path.join(d, "extra.pt"), os.path.join(d, "x.mnet")],
                       capture_output=True, text=True)
    if r.returncode != 1 or "lstm.weight_ih_l9" not in r.stderr or os.path.exists(
            os.path.join(d, "x.mnet")):
        fail(f"mnet.py to-mnet with an extra tensor: exit {r.returncode}, {r.stderr.strip()}")
    # a .mnet file with an extra and with a misshaped tensor
    header, data = mnet.model_header(model, durations, meta)
    n = len(data)
    header["extra.t"] = {"dtype": "F32", "shape": [2], "data_offsets": [n, n + 8]}
    p = os.path.join(d, "extra.mnet")
    open(p, "wb").write(mnet.mnet_bytes(header, data + bytes(8)))
    msgs.append(expect_refusal("extra tensor in .mnet", lambda: mnet.load_mnet(p), "extra.t"))
    header, data = mnet.model_header(model, durations, meta)
    b, e = header["emb.dur"]["data_offsets"]
    header["emb.dur"]["shape"] = [model.n_dur, model.E]      # one row short of n_dur + 1
    header["emb.dur"]["data_offsets"] = [b, e - 4 * model.E]
    p = os.path.join(d, "short.mnet")
    open(p, "wb").write(mnet.mnet_bytes(header, data))
    msgs.append(expect_refusal("misshaped tensor in .mnet", lambda: mnet.load_mnet(p), "emb.dur"))
    print("refuse: " + " | ".join(msgs))


def cmd_tokens(path, d):
    raw = open(path, "rb").read()
    tok = mnet.Tokens(path)
    cases = []

    def write(name, b):
        p = os.path.join(d, name)
        open(p, "wb").write(b)
        return p

    def recrc(b):
        return b[:-4] + struct.pack("<I", zlib.crc32(b[:-4]) & 0xffffffff)

    cases.append(("truncated", write("trunc.bin", raw[:len(raw) // 2]), "checksum"))
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 1
    cases.append(("damaged", write("flip.bin", bytes(flipped)), "checksum"))
    # counts that do not fit the size, with a valid checksum: the event count of the training
    # set is the u64 after its source string
    off = 8 + 4 * 7 + 4 * (1 + len(tok.durations)) + 4 + 4
    sl = struct.unpack_from("<I", raw, off)[0]
    at = off + 4 + sl + 8
    big = bytearray(raw)
    struct.pack_into("<Q", big, at, tok.train.n_events + 10 ** 9)
    cases.append(("event count", write("count.bin", recrc(bytes(big))), "remain"))
    extra = recrc(raw[:-4] + b"\0\0\0\0" + raw[-4:])
    cases.append(("trailing bytes", write("extra.bin", extra), "after the last set"))
    mag = recrc(b"MNTOKENX" + raw[8:])
    cases.append(("magic", write("magic.bin", mag), "magic"))
    out = []
    for what, p, needle in cases:
        out.append(expect_refusal(what, lambda: mnet.Tokens(p), needle))
    print(f"tokens: {path}: {tok.train.n_tunes} tunes, {tok.train.n_events} events read; "
          f"refused: " + " | ".join(out))


def cmd_curves(a, b):
    la = np.loadtxt(a, delimiter=",", skiprows=1, ndmin=2)
    lb = np.loadtxt(b, delimiter=",", skiprows=1, ndmin=2)
    if la.shape != lb.shape or len(la) == 0:
        fail(f"{a} has {len(la)} steps, {b} has {len(lb)}")
    lr_rel = np.abs(la[:, 2] - lb[:, 2]) / la[:, 2]
    if (lr_rel > 1e-6).any():   # the C trainer's rate is a float
        k = int(np.argmax(lr_rel))
        fail(f"step {int(la[k, 0])}: learning rate {la[k, 2]:.9g} against {lb[k, 2]:.9g}")
    rel = np.abs(la[:, 1] - lb[:, 1]) / np.abs(la[:, 1])
    k = int(np.argmax(rel))
    if rel[k] > 1e-4:
        fail(f"step {int(la[k, 0])}: loss {la[k, 1]:.9g} against {lb[k, 1]:.9g} "
             f"(relative {rel[k]:.3g})")
    print(f"curves: {len(la)} steps, loss {la[0, 1]:.4f} -> {la[-1, 1]:.4f} nats, max relative "
          f"difference {rel.max():.3g} (step {int(la[k, 0])})")


if __name__ == "__main__":
    verbs = {"logits": cmd_logits, "refuse": cmd_refuse, "tokens": cmd_tokens,
             "curves": cmd_curves}
    if len(sys.argv) < 2 or sys.argv[1] not in verbs:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    verbs[sys.argv[1]](*sys.argv[2:])
