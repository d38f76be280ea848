#!/usr/bin/python3
"""bench_model.py OUT.mnet LAYERS HIDDEN REFERENCE.mnet - writes a randomly initialised model of
the given shape (PyTorch's default initialisation, seed 1) with the embedding size, positions and
duration table of REFERENCE, so that `make bench` can time the step at other sizes. The weights
carry no music; only their shapes matter for timing."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from torch_model import MelodyNet, read_mnet, save_mnet  # noqa: E402


def main():
    out, L, H, ref = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    meta, _ = read_mnet(ref)
    durations = [int(x) for x in meta["durations"].split(",")]
    torch.manual_seed(1)
    m = MelodyNet(L, H, int(meta["n_embed"]), int(meta["n_pos"]), len(durations))
    save_mnet(m, out, durations, {"description": f"random {L} x {H} model for benchmarks"})


if __name__ == "__main__":
    main()
