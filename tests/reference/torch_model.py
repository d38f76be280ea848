"""torch_model.py - the melodynet network in PyTorch, with the same equations as core/session.c,
and a reader/writer for the .mnet file (safetensors layout, same rules as mn_model_save).

Inputs of the step predicting event t: x = [emb_pitch[prev pitch] | emb_dur[prev dur token] |
emb_pos[min(pos_t, n_pos - 1)]] (position only when n_pos > 0); the first step sees BOS tokens
(pitch 129, dur n_dur). torch.nn.LSTM (gate order i, f, g, o) then a pitch head on the top hidden
state and a duration head on [top hidden | emb_pitch[chosen pitch]].

Import from another directory with sys.path.insert(0, "<repo>/tests/reference").
"""
import json
import struct

import numpy as np
import torch
from torch import nn

N_PITCH = 129      # MIDI 0..127 and rest (128)
N_PITCH_IN = 130   # plus BOS (129)
PITCH_BOS = 129
TPQ = 24
FORMAT = "melodynet"
VERSION = "1"
ALIGN = 64         # the data section starts on this boundary in written files
ARCH_KEYS = ("format", "version", "n_layers", "n_hidden", "n_embed", "n_pos",
             "ticks_per_quarter", "durations")


class MelodyNet(nn.Module):
    def __init__(self, L, H, E, n_pos, n_dur):
        super().__init__()
        self.L, self.H, self.E, self.n_pos, self.n_dur = L, H, E, n_pos, n_dur
        self.emb_pitch = nn.Embedding(N_PITCH_IN, E)
        self.emb_dur = nn.Embedding(n_dur + 1, E)
        self.emb_pos = nn.Embedding(n_pos, E) if n_pos > 0 else None
        self.lstm = nn.LSTM(E * (3 if n_pos > 0 else 2), H, num_layers=L, batch_first=True)
        self.head_pitch = nn.Linear(H, N_PITCH)
        self.head_dur = nn.Linear(H + E, n_dur)

    @property
    def dur_bos(self):
        return self.n_dur

    def forward(self, pitch_in, dur_in, pos_in, state=None):
        """pitch_in, dur_in, pos_in: LongTensor [B, T] (previous event's tokens and this event's
        position in ticks; clamped here to n_pos - 1). Returns (h_top [B, T, H], state)."""
        parts = [self.emb_pitch(pitch_in), self.emb_dur(dur_in)]
        if self.emb_pos is not None:
            parts.append(self.emb_pos(pos_in.clamp(0, self.n_pos - 1)))
        h, state = self.lstm(torch.cat(parts, dim=-1), state)
        return h, state

    def pitch_logits(self, h):
        return self.head_pitch(h)

    def dur_logits(self, h, pitch):
        """pitch: LongTensor of the chosen pitch classes (0..128), shape h.shape[:-1]."""
        return self.head_dur(torch.cat([h, self.emb_pitch(pitch)], dim=-1))

    def canonical_tensors(self):
        """(name, tensor) in the canonical order of core/model.h."""
        out = [("emb.pitch", self.emb_pitch.weight), ("emb.dur", self.emb_dur.weight)]
        if self.emb_pos is not None:
            out.append(("emb.pos", self.emb_pos.weight))
        for l in range(self.L):
            out += [(f"lstm.{l}.w_ih", getattr(self.lstm, f"weight_ih_l{l}")),
                    (f"lstm.{l}.w_hh", getattr(self.lstm, f"weight_hh_l{l}")),
                    (f"lstm.{l}.b_ih", getattr(self.lstm, f"bias_ih_l{l}")),
                    (f"lstm.{l}.b_hh", getattr(self.lstm, f"bias_hh_l{l}"))]
        out += [("head.pitch.w", self.head_pitch.weight), ("head.pitch.b", self.head_pitch.bias),
                ("head.dur.w", self.head_dur.weight), ("head.dur.b", self.head_dur.bias)]
        return out


def mnet_bytes(header, blobs, align=ALIGN):
    """Builds a file image from a header dict and the concatenated data bytes: the JSON is
    padded with spaces so that the data section starts at a multiple of align."""
    js = json.dumps(header, separators=(",", ":")).encode()
    if align:
        js += b" " * ((-(8 + len(js))) % align)
    return struct.pack("<Q", len(js)) + js + blobs


def model_header(model, durations, meta=None):
    """Header dict and data bytes of a model, tensors contiguous in canonical order."""
    md = {"format": FORMAT, "version": VERSION, "n_layers": str(model.L),
          "n_hidden": str(model.H), "n_embed": str(model.E), "n_pos": str(model.n_pos),
          "ticks_per_quarter": str(TPQ), "durations": ",".join(str(int(d)) for d in durations)}
    for k, v in (meta or {}).items():
        if k not in ARCH_KEYS:
            md[k] = str(v)
    header = {"__metadata__": md}
    blobs = []
    off = 0
    for name, t in model.canonical_tensors():
        a = t.detach().to(torch.float32).cpu().contiguous().numpy().astype("<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    return header, b"".join(blobs)


def save_mnet(model, path, durations, meta=None):
    """Writes model as a .mnet file; meta is a dict of extra string metadata (training data,
    command, date, ...). Architecture keys are always taken from the model."""
    if len(durations) != model.n_dur:
        raise ValueError(f"{len(durations)} durations for a model with n_dur={model.n_dur}")
    header, data = model_header(model, durations, meta)
    with open(path, "wb") as f:
        f.write(mnet_bytes(header, data))


def read_mnet(path):
    """(metadata dict, {name: float32 numpy array}) of a .mnet or safetensors file."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, d in header.items():
        b, e = d["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(d["shape"]).copy()
    return meta, tensors


def load_mnet(path):
    """(MelodyNet, durations list, metadata dict) from a .mnet file."""
    meta, tensors = read_mnet(path)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"{path}: not a melodynet version {VERSION} file")
    durations = [int(x) for x in meta["durations"].split(",")]
    model = MelodyNet(int(meta["n_layers"]), int(meta["n_hidden"]), int(meta["n_embed"]),
                      int(meta["n_pos"]), len(durations))
    with torch.no_grad():
        for name, t in model.canonical_tensors():
            t.copy_(torch.from_numpy(tensors[name]))
    return model, durations, meta
