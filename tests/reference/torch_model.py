"""torch_model.py - the melodynet network in PyTorch and the .mnet reader/writer, for the
reference scripts and benchmarks: re-exports train/torch/mnet.py, the module the PyTorch
trainer uses, so that the references check the same code that trains.

Import from another directory with sys.path.insert(0, "<repo>/tests/reference").
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "train",
                                "torch"))
from mnet import *  # noqa: E402,F401,F403
from mnet import (ALIGN, ARCH_KEYS, FORMAT, MelodyNet, N_PITCH, N_PITCH_IN, PITCH_BOS,  # noqa: E402,F401
                  TPQ, VERSION, load_mnet, mnet_bytes, model_header, read_mnet, save_mnet)
