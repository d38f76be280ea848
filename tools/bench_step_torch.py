#!/usr/bin/python3
"""bench_step_torch.py MODEL.mnet [STEPS] - PyTorch's time for one generation step of a .mnet
model (batch 1, one thread, inference mode): embeddings, LSTM layers, pitch head, sampling the
pitch, duration head. Prints one JSON line with the median and p99 in microseconds. The same
step as `melodynet bench`, so the two can be compared as a ratio in one run."""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from torch_model import load_mnet  # noqa: E402


def main():
    path = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    torch.set_num_threads(1)
    model, durations, _ = load_mnet(path)
    model.eval()
    gen = torch.Generator().manual_seed(1)
    times = []
    with torch.inference_mode():
        p = torch.tensor([[129]])
        d = torch.tensor([[len(durations)]])
        pos = torch.tensor([[0]])
        state = None
        for i in range(steps + 300):
            if i % 256 == 0:
                state = None
            t0 = time.perf_counter()
            h, state = model(p, d, pos, state)
            probs = torch.softmax(model.pitch_logits(h)[0, 0], -1)
            pitch = torch.multinomial(probs, 1, generator=gen)
            dl = model.dur_logits(h[0, 0][None], pitch)
            dur = torch.multinomial(torch.softmax(dl[0], -1), 1, generator=gen)
            t1 = time.perf_counter()
            if i >= 300:
                times.append((t1 - t0) * 1e6)
            p, d = pitch.view(1, 1), dur.view(1, 1)
            pos = (pos + 24) % 96
    times.sort()
    print(json.dumps({"torch": torch.__version__, "steps": steps,
                      "median_us": times[len(times) // 2], "p99_us": times[int(len(times) * 0.99)]}))


if __name__ == "__main__":
    main()
