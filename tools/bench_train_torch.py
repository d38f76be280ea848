#!/usr/bin/python3
"""bench_train_torch.py - PyTorch reference for the trainer's throughput: the same model as
melodynet (pitch/duration/position embeddings -> torch.nn.LSTM -> pitch head, and a duration
head on [h | emb_pitch[true pitch]]), the same batch (B streams x T events) and a full training
step (forward, both cross-entropies, backward, gradient clipping, AdamW). Prints tokens/s.

usage: /usr/bin/python3 tools/bench_train_torch.py [--layers 2 --hidden 256 --embed 64
       --pos 192 --durations 32 --batch 32 --seq 64 --steps 20 --threads 1]
Compare with: bin/melodynet train DATA --bench-steps 20 --threads 1
"""
import argparse
import os
import sys
import time

# the thread count is pinned before torch is imported, so no library starts more threads
_threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv[:-1] else "1"
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = _threads

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from torch_model import MelodyNet  # noqa: E402  (the reference network)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--pos", type=int, default=192)
    ap.add_argument("--durations", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    B, T = a.batch, a.seq
    m = MelodyNet(a.layers, a.hidden, a.embed, a.pos, a.durations)
    opt = torch.optim.AdamW(m.parameters(), lr=2e-3, weight_decay=0.01)
    g = torch.Generator().manual_seed(2)
    tg_p = torch.randint(0, 129, (B, T), generator=g)
    tg_d = torch.randint(0, a.durations, (B, T), generator=g)
    in_p = torch.cat([torch.full((B, 1), 129), tg_p[:, :-1]], 1)
    in_d = torch.cat([torch.full((B, 1), a.durations), tg_d[:, :-1]], 1)
    in_q = torch.randint(0, max(a.pos, 1), (B, T), generator=g)
    zeros = torch.zeros(a.layers, B, a.hidden)
    state = (zeros, zeros)

    def step(state):
        h, state = m(in_p, in_d, in_q, state)
        lp, ld = m.pitch_logits(h), m.dur_logits(h, tg_p)
        loss = F.cross_entropy(lp.reshape(-1, 129), tg_p.reshape(-1)) + \
            F.cross_entropy(ld.reshape(-1, a.durations), tg_d.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        return tuple(s.detach() for s in state), loss.item()

    state, _ = step(state)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        state, loss = step(state)
    dt, ct = time.perf_counter() - t0, time.process_time() - c0
    n_params = sum(p.numel() for p in m.parameters())
    print(f"torch {torch.__version__}: L={a.layers} H={a.hidden} E={a.embed} pos={a.pos} "
          f"durations={a.durations}, {n_params} parameters, batch {B} x {T}, "
          f"{a.threads} thread(s): {a.steps} steps in {dt:.3f} s: "
          f"{a.steps * B * T / dt:.0f} tokens/s ({a.steps * B * T / ct:.0f} per CPU second; "
          f"loss {loss:.4f})")


if __name__ == "__main__":
    main()
