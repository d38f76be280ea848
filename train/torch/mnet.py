"""mnet.py - the melodynet network in PyTorch, with the same equations as core/rt/session.c and
core/tools/train.c, the .mnet reader and writer (safetensors layout, the rules of mn_model_save and
mn_model_load), the strict converter between a PyTorch state dict and the .mnet tensors, and
the reader of the token files that `melodynet prep` writes (core/tools/tokens.h).

Inputs of the step predicting event t: x = [emb_pitch[prev pitch] | emb_dur[prev dur token] |
emb_pos[min(pos_t, n_pos - 1)]] (position only when n_pos > 0); the first step of a tune sees
BOS tokens (pitch 129, dur n_dur) and a zero state. torch.nn.LSTM (gate order i, f, g, o) then
a pitch head on the top hidden state and a duration head on [top hidden | emb_pitch[pitch]].

Everything here raises ValueError with a message naming the file and the tensor or field at
fault; nothing is loaded halfway.
"""
import json
import math
import os
import struct
import zlib

import numpy as np
import torch
from torch import nn

N_PITCH = 129      # MIDI 0..127 and rest (128)
N_PITCH_IN = 130   # plus BOS (129)
REST = 128
PITCH_BOS = 129
TPQ = 24
FORMAT = "melodynet"
VERSION = "1"
ALIGN = 64         # the data section starts on this boundary in written files
ARCH_KEYS = ("format", "version", "n_layers", "n_hidden", "n_embed", "n_pos",
             "ticks_per_quarter", "durations", "data_fnv1a64")
CHECKSUM_KEY = "data_fnv1a64"  # FNV-1a 64 of the data section, as core/rt/model.c writes it


def fnv1a64(data):
    """FNV-1a 64 of bytes (the checksum core/rt/model.c stores and checks)."""
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h
# limits of core/rt/model.h
MAX_LAYERS, MAX_HIDDEN, MAX_EMBED, MAX_POS, MAX_DUR, MAX_DUR_TICKS = 8, 4096, 1024, 1024, 64, 1536
MAX_HEADER_BYTES = 1 << 20


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

    def inputs(self, pitch_in, dur_in, pos_in):
        """Layer 0's input [B, T, I0] from the previous event's tokens and this event's
        position in ticks (clamped here to n_pos - 1)."""
        parts = [self.emb_pitch(pitch_in), self.emb_dur(dur_in)]
        if self.emb_pos is not None:
            parts.append(self.emb_pos(pos_in.clamp(0, self.n_pos - 1)))
        return torch.cat(parts, dim=-1)

    def forward(self, pitch_in, dur_in, pos_in, state=None):
        """pitch_in, dur_in, pos_in: LongTensor [B, T]. Returns (h_top [B, T, H], state)."""
        h, state = self.lstm(self.inputs(pitch_in, dur_in, pos_in), state)
        return h, state

    def pitch_logits(self, h):
        return self.head_pitch(h)

    def dur_logits(self, h, pitch):
        """pitch: LongTensor of the chosen pitch classes (0..128), shape h.shape[:-1]."""
        return self.head_dur(torch.cat([h, self.emb_pitch(pitch)], dim=-1))

    def config(self):
        return {"n_layers": self.L, "n_hidden": self.H, "n_embed": self.E, "n_pos": self.n_pos,
                "n_dur": self.n_dur}

    def canonical_tensors(self):
        """(name, tensor) in the canonical order of core/rt/model.h."""
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


# ============================== names and shapes ==============================

def canonical_shapes(L, H, E, n_pos, n_dur):
    """{canonical name: shape} of a configuration, in canonical order (dicts keep order)."""
    i0 = E * (3 if n_pos > 0 else 2)
    out = {"emb.pitch": (N_PITCH_IN, E), "emb.dur": (n_dur + 1, E)}
    if n_pos > 0:
        out["emb.pos"] = (n_pos, E)
    for l in range(L):
        out[f"lstm.{l}.w_ih"] = (4 * H, i0 if l == 0 else H)
        out[f"lstm.{l}.w_hh"] = (4 * H, H)
        out[f"lstm.{l}.b_ih"] = (4 * H,)
        out[f"lstm.{l}.b_hh"] = (4 * H,)
    out.update({"head.pitch.w": (N_PITCH, H), "head.pitch.b": (N_PITCH,),
                "head.dur.w": (n_dur, H + E), "head.dur.b": (n_dur,)})
    return out


def torch_name(canonical):
    """State-dict key of MelodyNet for a canonical tensor name."""
    parts = canonical.split(".")
    if parts[0] == "emb":
        return f"emb_{parts[1]}.weight"
    if parts[0] == "lstm":
        kind, which = parts[2].split("_")
        return f"lstm.{'weight' if kind == 'w' else 'bias'}_{which}_l{parts[1]}"
    return f"head_{parts[1]}.{'weight' if parts[2] == 'w' else 'bias'}"


def check_config(L, H, E, n_pos, durations, where):
    """Raises ValueError unless the sizes and the duration table are within core/rt/model.h's
    limits (what mn_model_load accepts)."""
    for name, v, lo, hi in (("n_layers", L, 1, MAX_LAYERS), ("n_hidden", H, 1, MAX_HIDDEN),
                            ("n_embed", E, 1, MAX_EMBED), ("n_pos", n_pos, 0, MAX_POS)):
        if not lo <= v <= hi:
            raise ValueError(f"{where}: {name} is {v}, expected {lo}..{hi}")
    if not 1 <= len(durations) <= MAX_DUR:
        raise ValueError(f"{where}: {len(durations)} durations, expected 1..{MAX_DUR}")
    for i, d in enumerate(durations):
        if not 1 <= d <= MAX_DUR_TICKS:
            raise ValueError(f"{where}: duration {i} is {d} ticks, expected 1..{MAX_DUR_TICKS}")
        if i and d <= durations[i - 1]:
            raise ValueError(f"{where}: durations not strictly ascending at entry {i}")


def tensors_to_model(tensors, L, H, E, n_pos, durations, where):
    """A MelodyNet holding the canonical tensors ({name: array or tensor}). Refuses a missing,
    extra, misshaped or non-finite tensor, naming it."""
    check_config(L, H, E, n_pos, durations, where)
    shapes = canonical_shapes(L, H, E, n_pos, len(durations))
    for name in tensors:
        if name not in shapes:
            raise ValueError(f"{where}: tensor {name} has no place in a model of "
                             f"{L} layers (n_pos {n_pos})")
    for name, shape in shapes.items():
        if name not in tensors:
            raise ValueError(f"{where}: tensor {name} is missing")
        got = tuple(tensors[name].shape)
        if got != shape:
            raise ValueError(f"{where}: tensor {name} has shape {list(got)}, expected "
                             f"{list(shape)}")
    model = MelodyNet(L, H, E, n_pos, len(durations))
    with torch.no_grad():
        for name, t in model.canonical_tensors():
            src = torch.as_tensor(np.asarray(tensors[name], dtype=np.float32))
            if not torch.isfinite(src).all():
                raise ValueError(f"{where}: tensor {name} holds a value that is not finite")
            t.copy_(src)
    return model


def state_dict_to_model(sd, durations, n_pos=None, where="state dict"):
    """A MelodyNet from a PyTorch state dict of MelodyNet (keys like lstm.weight_ih_l0; a
    "module." prefix from DistributedDataParallel is dropped). The sizes are read from the
    tensors; every key must map to a canonical tensor of the right shape, else ValueError
    names the key."""
    sd = {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}
    for k in ("emb_pitch.weight", "emb_dur.weight", "lstm.weight_hh_l0", "head_pitch.weight"):
        if k not in sd:
            raise ValueError(f"{where}: tensor {k} is missing")
    E = int(sd["emb_pitch.weight"].shape[1])
    H = int(sd["lstm.weight_hh_l0"].shape[1])
    L = 0
    while f"lstm.weight_hh_l{L}" in sd:
        L += 1
    if n_pos is None:
        n_pos = int(sd["emb_pos.weight"].shape[0]) if "emb_pos.weight" in sd else 0
    names = {torch_name(c): c for c in canonical_shapes(L, H, E, n_pos, len(durations))}
    tensors = {}
    for k, v in sd.items():
        if k not in names:
            raise ValueError(f"{where}: tensor {k} has no place in a melodynet model")
        tensors[names[k]] = v.detach().cpu() if torch.is_tensor(v) else v
    try:
        return tensors_to_model(tensors, L, H, E, n_pos, durations, where)
    except ValueError as e:
        # name the state dict's key rather than the canonical one
        msg = str(e)
        for tk, c in names.items():
            msg = msg.replace(f"tensor {c} ", f"tensor {tk} ")
        raise ValueError(msg) from None


# ============================== .mnet files ==============================

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
    data = b"".join(blobs)
    md[CHECKSUM_KEY] = "%016x" % fnv1a64(data)
    return header, data


def save_mnet(model, path, durations, meta=None):
    """Writes model as a .mnet file (through a temporary file and a rename, so a failed write
    leaves path as it was); meta is a dict of extra string metadata (training data, command,
    date, ...). Architecture keys are always taken from the model."""
    if len(durations) != model.n_dur:
        raise ValueError(f"{len(durations)} durations for a model with n_dur={model.n_dur}")
    check_config(model.L, model.H, model.E, model.n_pos, list(durations), path)
    header, data = model_header(model, durations, meta)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(mnet_bytes(header, data))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_mnet(path):
    """(metadata dict, {name: float32 numpy array}) of a .mnet or safetensors file, checking
    the header, dtypes and offsets against the file size."""
    raw = open(path, "rb").read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for a model file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(raw):
        raise ValueError(f"{path}: header of {n} bytes does not fit the file ({len(raw)} bytes)")
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise ValueError(f"{path}: header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, d in header.items():
        if not isinstance(d, dict) or d.get("dtype") != "F32":
            raise ValueError(f"{path}: tensor {name} is not F32")
        shape = d.get("shape")
        offs = d.get("data_offsets")
        if (not isinstance(shape, list) or not all(isinstance(x, int) and x >= 0 for x in shape)
                or not isinstance(offs, list) or len(offs) != 2):
            raise ValueError(f"{path}: tensor {name} has a malformed shape or offsets")
        b, e = offs
        if not (isinstance(b, int) and isinstance(e, int) and 0 <= b <= e <= len(data)):
            raise ValueError(f"{path}: tensor {name} lies outside the data section")
        if e - b != 4 * math.prod(shape):
            raise ValueError(f"{path}: tensor {name} has {e - b} bytes for shape {shape}")
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(shape).copy()
    return meta, tensors


def parse_arch(meta, where):
    """(L, H, E, n_pos, durations) from a .mnet's metadata."""
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"{where}: not a melodynet version {VERSION} file")
    try:
        L, H, E, n_pos = (int(meta[k]) for k in ("n_layers", "n_hidden", "n_embed", "n_pos"))
        durations = [int(x) for x in meta["durations"].split(",")]
        tpq = int(meta.get("ticks_per_quarter", TPQ))
    except (KeyError, ValueError) as e:
        raise ValueError(f"{where}: bad architecture metadata ({e})") from None
    if tpq != TPQ:
        raise ValueError(f"{where}: ticks_per_quarter {tpq}, expected {TPQ}")
    return L, H, E, n_pos, durations


def load_mnet(path):
    """(MelodyNet, durations list, metadata dict) from a .mnet file; ValueError naming the
    tensor when one is missing, extra or misshaped."""
    meta, tensors = read_mnet(path)
    L, H, E, n_pos, durations = parse_arch(meta, path)
    return tensors_to_model(tensors, L, H, E, n_pos, durations, path), durations, meta


# ============================== token files ==============================

TOKENS_MAGIC = b"MNTOKENS"
TOKENS_VERSION = 1


class TokenSet:
    """One set of a token file: tune boundaries and per-event arrays (numpy)."""

    def __init__(self, kind, source, tune_events, pitch, dur, pos):
        self.kind, self.source = kind, source
        self.tune_events = tune_events                   # [n_tunes] uint32
        self.offsets = np.concatenate([[0], np.cumsum(tune_events, dtype=np.int64)])
        self.pitch, self.dur, self.pos = pitch, dur, pos  # [n_events] uint8, uint8, uint16

    @property
    def n_tunes(self):
        return len(self.tune_events)

    @property
    def n_events(self):
        return len(self.pitch)

    def tune(self, i):
        a, b = self.offsets[i], self.offsets[i + 1]
        return self.pitch[a:b], self.dur[a:b], self.pos[a:b]


class Tokens:
    """A token file of `melodynet prep`: durations, settings, train and optional valid set."""

    def __init__(self, path):
        raw = open(path, "rb").read()
        self.path = path
        off = 0

        def take(n, what):
            nonlocal off
            if n < 0 or off + n > len(raw) - 4:
                raise ValueError(f"{path}: truncated at {what} (byte {off}, file of "
                                 f"{len(raw)} bytes)")
            b = raw[off:off + n]
            off += n
            return b

        def u32(what):
            return struct.unpack("<I", take(4, what))[0]

        def i32(what):
            return struct.unpack("<i", take(4, what))[0]

        def u64(what):
            return struct.unpack("<Q", take(8, what))[0]

        if len(raw) < 12 or raw[:8] != TOKENS_MAGIC:
            raise ValueError(f"{path}: not a melodynet token file (no MNTOKENS magic)")
        (crc,) = struct.unpack("<I", raw[-4:])
        if zlib.crc32(raw[:-4]) & 0xffffffff != crc:
            raise ValueError(f"{path}: checksum mismatch (truncated or damaged)")
        take(8, "magic")
        version = u32("version")
        if version != TOKENS_VERSION:
            raise ValueError(f"{path}: token file version {version}, expected {TOKENS_VERSION}")
        self.tpq = u32("ticks_per_quarter")
        if self.tpq != TPQ:
            raise ValueError(f"{path}: ticks_per_quarter {self.tpq}, expected {TPQ}")
        self.shift_lo, self.shift_hi = i32("shift_lo"), i32("shift_hi")
        if not -127 <= self.shift_lo <= 0 <= self.shift_hi <= 127:
            raise ValueError(f"{path}: transpositions {self.shift_lo}..{self.shift_hi}")
        self.track, self.channel = i32("track"), i32("channel")
        self.max_durations = u32("max_durations")
        n_dur = u32("n_dur")
        if not 1 <= n_dur <= MAX_DUR:
            raise ValueError(f"{path}: {n_dur} durations, expected 1..{MAX_DUR}")
        self.durations = list(struct.unpack(f"<{n_dur}I", take(4 * n_dur, "durations")))
        check_config(1, 1, 1, 0, self.durations, path)
        n_sets = u32("n_sets")
        if n_sets not in (1, 2):
            raise ValueError(f"{path}: {n_sets} sets, expected 1 or 2")
        self.train, self.valid = None, None
        for k in range(n_sets):
            kind = u32("set kind")
            if kind != k:
                raise ValueError(f"{path}: set {k} is of kind {kind}, expected {k}")
            what = "training" if kind == 0 else "validation"
            sl = u32(f"{what} source length")
            source = take(sl, f"{what} source").decode("utf-8", "replace")
            n_tunes, n_events = u64(f"{what} tune count"), u64(f"{what} event count")
            need = 4 * n_tunes + 4 * n_events
            if need > len(raw) - 4 - off:
                raise ValueError(f"{path}: {what} set declares {n_tunes} tunes and {n_events} "
                                 f"events ({need} bytes), but {len(raw) - 4 - off} bytes remain")
            tune_events = np.frombuffer(take(4 * n_tunes, "tune lengths"), dtype="<u4")
            if n_tunes and (tune_events.min() < 1 or int(tune_events.sum()) != n_events):
                raise ValueError(f"{path}: {what} tune lengths do not sum to {n_events} events "
                                 "(or one is 0)")
            pitch = np.frombuffer(take(n_events, "pitches"), dtype=np.uint8)
            dur = np.frombuffer(take(n_events, "durations"), dtype=np.uint8)
            pos = np.frombuffer(take(2 * n_events, "positions"), dtype="<u2")
            if n_events and int(pitch.max()) > REST:
                raise ValueError(f"{path}: {what} pitch {int(pitch.max())}, expected 0..128")
            if n_events and int(dur.max()) >= n_dur:
                raise ValueError(f"{path}: {what} duration token {int(dur.max())}, expected "
                                 f"0..{n_dur - 1}")
            s = TokenSet(kind, source, tune_events, pitch, dur, pos)
            if kind == 0:
                self.train = s
            else:
                self.valid = s
        if off != len(raw) - 4:
            raise ValueError(f"{path}: {len(raw) - 4 - off} bytes after the last set")
        if self.train.n_events == 0:
            raise ValueError(f"{path}: no training events")


# ============================== conversion tool ==============================

def main(argv=None):
    """python3 mnet.py to-torch IN.mnet OUT.pt | to-mnet IN.pt OUT.mnet: converts between a
    .mnet file and a PyTorch file {"state_dict", "durations", "meta"}; refuses any tensor it
    cannot map, naming it."""
    import sys
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] not in ("to-torch", "to-mnet"):
        print(main.__doc__.strip(), file=sys.stderr)
        return 2
    verb, src, dst = argv
    try:
        if verb == "to-torch":
            model, durations, meta = load_mnet(src)
            torch.save({"state_dict": model.state_dict(), "durations": durations, "meta": meta},
                       dst)
        else:
            obj = torch.load(src, map_location="cpu")
            if not isinstance(obj, dict) or "state_dict" not in obj or "durations" not in obj:
                raise ValueError(f"{src}: expected a dict with state_dict and durations")
            durations = [int(d) for d in obj["durations"]]
            model = state_dict_to_model(obj["state_dict"], durations, where=src)
            save_mnet(model, dst, durations, obj.get("meta") or {})
    except (OSError, ValueError) as e:
        print(f"mnet: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
