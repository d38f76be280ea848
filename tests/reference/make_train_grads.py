#!/usr/bin/python3
"""make_train_grads.py - writes the PyTorch reference of the trainer's loss and gradients for
tests/test_train.c: a tiny random model and one fixed training window (3 streams of 7 events,
time-major, with tune starts inside the window), run through PyTorch in float64 on the same
float32 weights; the mean loss over the window (pitch + duration cross-entropy, nats/event, as
the C trainer defines it) and the gradient of every parameter, in the canonical order of
core/rt/model.h (tests/fixtures/ref/train_grads.txt). Run by hand from the repository root:

    /usr/bin/python3 tests/reference/make_train_grads.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_model import MelodyNet, PITCH_BOS  # noqa: E402

FILE_VERSION = 1
L, H, E, N_POS, N_DUR = 2, 6, 4, 5, 4
B, T = 3, 7
REST = 128
# a tune starts at these (stream, time) positions (every stream starts one at time 0)
STARTS = {(0, 0), (1, 0), (2, 0), (0, 4), (2, 2), (2, 6)}


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "tests", "fixtures", "ref", "train_grads.txt")
    torch.manual_seed(20261202)
    model = MelodyNet(L, H, E, N_POS, N_DUR)
    with torch.no_grad():
        # larger weights than the default init: the gates work in their nonlinear range
        for name, t in model.canonical_tensors():
            if name.startswith("lstm."):
                t.mul_(2.5)
            elif name.startswith("head."):
                t.mul_(3.0)
    params32 = [t.detach().clone().float() for _, t in model.canonical_tensors()]

    # the window: targets drawn at random (rests included), inputs the previous event of the
    # same tune or BOS at a tune start
    g = torch.Generator().manual_seed(7)
    rows = {}
    for b in range(B):
        prev = None
        for t in range(T):
            tp = int(torch.randint(48, 84, (1,), generator=g))
            if int(torch.randint(0, 5, (1,), generator=g)) == 0:
                tp = REST
            td = int(torch.randint(0, N_DUR, (1,), generator=g))
            q = int(torch.randint(0, N_POS, (1,), generator=g))
            reset = (b, t) in STARTS
            ip, idur = (PITCH_BOS, N_DUR) if reset else prev
            rows[(b, t)] = (int(reset), ip, idur, q, tp, td)
            prev = (tp, td)

    m64 = model.double()
    m64.zero_grad()
    total = torch.zeros((), dtype=torch.float64)
    for b in range(B):
        # the stream in segments that each start from a zero state
        seg = []
        for t in range(T + 1):
            if t == T or (rows[(b, t)][0] and seg):
                lt = lambda k: torch.tensor([[rows[(b, u)][k] for u in seg]], dtype=torch.long)  # noqa: E731
                h, _ = m64(lt(1), lt(2), lt(3))
                tp, td = lt(4)[0], lt(5)[0]
                total = total + torch.nn.functional.cross_entropy(
                    m64.pitch_logits(h)[0], tp, reduction="sum")
                total = total + torch.nn.functional.cross_entropy(
                    m64.dur_logits(h, lt(4))[0], td, reduction="sum")
                seg = []
            if t < T:
                seg.append(t)
    loss = total / (B * T)
    loss.backward()

    lines = [f"melodynet-ref-train-grads {FILE_VERSION}",
             f"config {L} {H} {E} {N_POS} {N_DUR}",
             f"window {B} {T}"]
    for t in range(T):
        for b in range(B):
            lines.append("row %d %d %d %d %d %d" % rows[(b, t)])
    lines.append("loss %.17g" % loss.item())
    for (name, p), w in zip(m64.canonical_tensors(), params32):
        lines.append(f"tensor {name} {w.numel()}")
        lines.append("w " + " ".join("%.9g" % v for v in w.flatten().tolist()))
        lines.append("g " + " ".join("%.12g" % v for v in p.grad.flatten().tolist()))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: loss {loss.item():.9f}, "
          f"{sum(w.numel() for w in params32)} parameters")


if __name__ == "__main__":
    main()
