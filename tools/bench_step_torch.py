#!/usr/bin/python3
"""bench_step_torch.py MODEL.mnet [STEPS] - PyTorch's time for one generation step of a .mnet
model (batch 1, one thread, inference mode): embeddings, LSTM layers, pitch head, sampling the
pitch, duration head for the chosen pitch, sampling the duration. The same step as
`melodynet bench`, written every way PyTorch offers, so that the comparison is with the fastest:

  lstm-eager     nn.LSTM, eager
  lstm-script    nn.LSTM inside a TorchScript module
  addmv-eager    one fused [W_ih | W_hh] addmv per layer into preallocated buffers, eager
  addmv-script   the same step compiled with TorchScript

The thread count is pinned before torch is imported (OMP/MKL/OpenBLAS variables) and again
with torch.set_num_threads(1). Prints one JSON line: each variant's median and p99 in
microseconds and the name and figures of the fastest."""
import os

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import List, Tuple  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from torch_model import load_mnet  # noqa: E402

WARM = 300


class LstmStep(torch.nn.Module):
    """One step through nn.LSTM and both heads, sampling pitch and duration."""

    def __init__(self, model):
        super().__init__()
        self.emb_pitch = model.emb_pitch
        self.emb_dur = model.emb_dur
        self.has_pos = model.emb_pos is not None
        self.emb_pos = model.emb_pos if self.has_pos else torch.nn.Embedding(1, 1)
        self.n_pos = max(model.n_pos, 1)
        self.lstm = model.lstm
        self.head_pitch = model.head_pitch
        self.head_dur = model.head_dur

    def forward(self, p: torch.Tensor, d: torch.Tensor, pos: torch.Tensor,
                h0: torch.Tensor, c0: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor,
                                                             torch.Tensor, torch.Tensor]:
        parts = [self.emb_pitch(p), self.emb_dur(d)]
        if self.has_pos:
            parts.append(self.emb_pos(pos.clamp(0, self.n_pos - 1)))
        x = torch.cat(parts, dim=-1)
        h, (hn, cn) = self.lstm(x, (h0, c0))
        top = h[0, 0]
        probs = torch.softmax(self.head_pitch(top), -1)
        pitch = torch.multinomial(probs, 1)
        dl = self.head_dur(torch.cat([top, self.emb_pitch(pitch)[0]], -1))
        dur = torch.multinomial(torch.softmax(dl, -1), 1)
        return pitch, dur, hn, cn


class AddmvStep(torch.nn.Module):
    """The step as one addmv per layer over fused input and recurrent weights, gates (i, f, g, o)
    computed in place on preallocated buffers."""

    def __init__(self, model):
        super().__init__()
        L, H = model.L, model.H
        self.L, self.H = L, H
        self.has_pos = model.emb_pos is not None
        self.n_pos = model.n_pos
        self.emb_pitch = model.emb_pitch.weight.detach().contiguous()
        self.emb_dur = model.emb_dur.weight.detach().contiguous()
        self.emb_pos = (model.emb_pos.weight.detach().contiguous() if self.has_pos
                        else torch.zeros(1, 1))
        ws: List[torch.Tensor] = []
        bs: List[torch.Tensor] = []
        for l in range(L):
            wi = getattr(model.lstm, f"weight_ih_l{l}").detach()
            wh = getattr(model.lstm, f"weight_hh_l{l}").detach()
            ws.append(torch.cat([wi, wh], 1).contiguous())
            bs.append((getattr(model.lstm, f"bias_ih_l{l}") +
                       getattr(model.lstm, f"bias_hh_l{l}")).detach().contiguous())
        self.w = ws
        self.b = bs
        self.wp = model.head_pitch.weight.detach().contiguous()
        self.bp = model.head_pitch.bias.detach().contiguous()
        self.wd = model.head_dur.weight.detach().contiguous()
        self.bd = model.head_dur.bias.detach().contiguous()
        in0 = self.emb_pitch.shape[1] * (3 if self.has_pos else 2)
        self.xs: List[torch.Tensor] = [torch.zeros((in0 if l == 0 else H) + H) for l in range(L)]
        self.gates = torch.zeros(4 * H)
        self.cat_d = torch.zeros(H + self.emb_pitch.shape[1])

    def forward(self, p: int, d: int, pos: int, h: torch.Tensor,
                c: torch.Tensor) -> Tuple[int, int]:
        """h, c: [L, H], updated in place. Returns (pitch, duration token)."""
        H = self.H
        E = self.emb_pitch.shape[1]
        x0 = self.xs[0]
        x0[0:E] = self.emb_pitch[p]
        x0[E:2 * E] = self.emb_dur[d]
        k = 2 * E
        if self.has_pos:
            x0[2 * E:3 * E] = self.emb_pos[min(max(pos, 0), self.n_pos - 1)]
            k = 3 * E
        for l in range(self.L):
            x = self.xs[l]
            x[k:k + H] = h[l]
            g = torch.addmv(self.b[l], self.w[l], x, out=self.gates)
            i = torch.sigmoid(g[0:H])
            f = torch.sigmoid(g[H:2 * H])
            gg = torch.tanh(g[2 * H:3 * H])
            o = torch.sigmoid(g[3 * H:4 * H])
            c[l] = f * c[l] + i * gg
            h[l] = o * torch.tanh(c[l])
            if l + 1 < self.L:
                self.xs[l + 1][0:H] = h[l]
                k = H
        top = h[self.L - 1]
        probs = torch.softmax(torch.addmv(self.bp, self.wp, top), -1)
        pitch = int(torch.multinomial(probs, 1).item())
        self.cat_d[0:H] = top
        self.cat_d[H:H + E] = self.emb_pitch[pitch]
        dl = torch.addmv(self.bd, self.wd, self.cat_d)
        dur = int(torch.multinomial(torch.softmax(dl, -1), 1).item())
        return pitch, dur


def time_lstm(step, model, n_dur, steps):
    H, L = model.H, model.L
    times = []
    p = torch.tensor([[129]])
    d = torch.tensor([[n_dur]])
    pos = torch.tensor([[0]])
    h0 = torch.zeros(L, 1, H)
    c0 = torch.zeros(L, 1, H)
    for i in range(steps + WARM):
        if i % 256 == 0:
            h0.zero_()
            c0.zero_()
        t0 = time.perf_counter()
        pitch, dur, h0, c0 = step(p, d, pos, h0, c0)
        t1 = time.perf_counter()
        if i >= WARM:
            times.append((t1 - t0) * 1e6)
        p, d = pitch.view(1, 1), dur.view(1, 1)
        pos = (pos + 24) % 96
    return times


def time_addmv(step, model, n_dur, steps):
    H, L = model.H, model.L
    h = torch.zeros(L, H)
    c = torch.zeros(L, H)
    times = []
    p, d, pos = 129, n_dur, 0
    for i in range(steps + WARM):
        if i % 256 == 0:
            h.zero_()
            c.zero_()
        t0 = time.perf_counter()
        p, d = step(p, d, pos, h, c)
        t1 = time.perf_counter()
        if i >= WARM:
            times.append((t1 - t0) * 1e6)
        pos = (pos + 24) % 96
    return times


def summary(times):
    times = sorted(times)
    return {"median_us": times[len(times) // 2], "p99_us": times[int(len(times) * 0.99)]}


def main():
    path = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    torch.set_num_threads(1)
    torch.manual_seed(1)
    model, durations, _ = load_mnet(path)
    model.eval()
    n_dur = len(durations)
    out = {"torch": torch.__version__, "steps": steps, "threads": torch.get_num_threads(),
           "variants": {}}
    with torch.inference_mode():
        lstm = LstmStep(model)
        addmv = AddmvStep(model)
        variants = [("lstm-eager", time_lstm, lstm), ("addmv-eager", time_addmv, addmv)]
        for name, fn, mod in (("lstm-script", time_lstm, lstm), ("addmv-script", time_addmv, addmv)):
            try:
                variants.append((name, fn, torch.jit.script(mod)))
            except Exception as e:  # a TorchScript failure is reported, the rest still runs
                out["variants"][name] = {"error": " ".join(str(e).split())[:200]}
        for name, fn, mod in variants:
            out["variants"][name] = summary(fn(mod, model, n_dur, steps))
    timed = {k: v for k, v in out["variants"].items() if "median_us" in v}
    best = min(timed, key=lambda k: timed[k]["median_us"])
    out["fastest"] = best
    out["median_us"] = timed[best]["median_us"]
    out["p99_us"] = timed[best]["p99_us"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
