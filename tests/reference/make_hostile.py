#!/usr/bin/python3
"""make_hostile.py - writes tests/fixtures/hostile/*.mnet: a tiny valid model (ok_*.mnet, also
stored unaligned and out of order so the loader's copy path is exercised) and one broken file
per loader rule, each derived from the valid one by a single fault. tests/test_model.c has a
named test per file. Run by hand from the repository root:

    /usr/bin/python3 tests/reference/make_hostile.py
"""
import copy
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_model import MelodyNet, mnet_bytes, model_header  # noqa: E402

DURATIONS = [6, 12, 24]


def dumps(header):
    return json.dumps(header, separators=(",", ":")).encode()


def raw_file(js, data):
    """A file from literal header bytes (no padding) and data."""
    return struct.pack("<Q", len(js)) + js + data


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = os.path.join(root, "tests", "fixtures", "hostile")
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".mnet"):
            os.remove(os.path.join(out_dir, f))
    torch.manual_seed(7)
    model = MelodyNet(2, 4, 2, 4, len(DURATIONS))
    header, data = model_header(model, DURATIONS, {"name": "hostile base", "license": "CC0-1.0"})
    files = {}

    def variant(name, edit=None, data_edit=None):
        h = copy.deepcopy(header)
        d = bytearray(data)
        if edit:
            edit(h)
        if data_edit:
            data_edit(h, d)
        files[name] = mnet_bytes(h, bytes(d))

    def offsets(h, name):
        return h[name]["data_offsets"]

    base = mnet_bytes(header, data)
    files["ok_base"] = base

    # valid, but the data section starts 2 bytes past a 4-byte boundary: copied on load
    js = dumps(header)
    js += b" " * ((2 - (8 + len(js))) % 4)
    files["ok_unaligned"] = raw_file(js, data)

    # valid, tensors stored in reverse canonical order: copied into canonical order on load
    names = [k for k in header if k != "__metadata__"]
    h = copy.deepcopy(header)
    chunks, off = [], 0
    for n in reversed(names):
        b, e = header[n]["data_offsets"]
        chunks.append(data[b:e])
        h[n]["data_offsets"] = [off, off + e - b]
        off += e - b
    files["ok_shuffled"] = mnet_bytes(h, b"".join(chunks))

    files["empty_file"] = b""
    files["truncated_header_len"] = base[:5]
    files["truncated"] = base[:len(base) - 40]
    files["header_len_past_end"] = struct.pack("<Q", len(base)) + base[8:]
    files["header_too_large"] = struct.pack("<Q", 1 << 40) + base[8:]
    bad = dumps(header)
    files["bad_json"] = raw_file(bad[:-1] + b" ", data)
    files["not_object"] = raw_file(b"[1,2,3]", data)

    def drop_meta(h):
        del h["__metadata__"]
    variant("no_metadata", drop_meta)

    def meta_set(key, value):
        def f(h):
            if value is None:
                del h["__metadata__"][key]
            else:
                h["__metadata__"][key] = value
        return f

    variant("wrong_format", meta_set("format", "safetensors"))
    variant("wrong_version", meta_set("version", "2"))
    variant("wrong_ticks_per_quarter", meta_set("ticks_per_quarter", "480"))
    variant("huge_dims", meta_set("n_hidden", "100000000000000000000"))
    variant("zero_layers", meta_set("n_layers", "0"))
    variant("bad_integer", meta_set("n_embed", "2x"))
    variant("bad_durations", meta_set("durations", "12,6,24"))
    variant("durations_garbage", meta_set("durations", "6,,24"))
    variant("missing_durations", meta_set("durations", None))
    variant("meta_not_string", meta_set("n_pos", 4))

    def many_meta(h):
        for i in range(70):
            h["__metadata__"][f"k{i}"] = "v"
    variant("too_many_meta", many_meta)

    def missing(h):
        del h["head.dur.b"]
    variant("missing_tensor", missing)

    def extra(h):
        h["lstm.2.w_ih"] = copy.deepcopy(h["lstm.1.w_ih"])
    variant("extra_tensor", extra)

    # a duplicate key can only be written as text
    entry = b'"head.dur.b":' + dumps(header["head.dur.b"])
    js = dumps(header)
    files["duplicate_tensor"] = raw_file(js[:-1] + b"," + entry + b"}", data)

    def dtype(h):
        h["emb.dur"]["dtype"] = "F16"
    variant("wrong_dtype", dtype)

    def dtype_nul(h):
        h["emb.dur"]["dtype"] = "F32\u0000x"
    variant("dtype_with_nul", dtype_nul)

    def shape(h):
        h["emb.pitch"]["shape"] = [130, 3]
    variant("wrong_shape", shape)

    def ndim3(h):
        h["lstm.0.w_ih"]["shape"] = [16, 6, 1]
    variant("ndim_3", ndim3)

    def dim_u64(h):
        h["lstm.0.w_hh"]["shape"] = [18446744073709551615, 4]
    variant("dim_u64_max", dim_u64)

    def past_end(h):
        o = offsets(h, "head.dur.b")
        o[1] = o[1] + 4
        o[0] = o[0] + 4
    variant("offset_past_end", past_end)

    def u64_end(h):
        h["head.dur.b"]["data_offsets"] = [0, 18446744073709551615]
    variant("offset_u64_max", u64_end)

    def reversed_offsets(h):
        o = offsets(h, "emb.dur")
        o[0], o[1] = o[1], o[0]
    variant("offsets_reversed", reversed_offsets)

    def size_mismatch(h):
        offsets(h, "emb.pos")[1] -= 4
    variant("size_mismatch", size_mismatch)

    def not_ints(h):
        h["emb.pos"]["data_offsets"] = [0.5, 4]
    variant("offsets_not_integers", not_ints)

    def overlap(h):
        o = offsets(h, "emb.dur")
        n = o[1] - o[0]
        o[0], o[1] = 4, 4 + n
    variant("overlapping_offsets", overlap)

    def poke(name, value, index):
        def f(h, d):
            b = h[name]["data_offsets"][0] + 4 * index
            d[b:b + 4] = struct.pack("<f", value)
        return f

    variant("nan_weight", data_edit=poke("lstm.1.w_hh", float("nan"), 5))
    variant("inf_weight", data_edit=poke("head.pitch.b", float("-inf"), 128))

    # --- a model that loads plays music (or is refused) ---------------------------------
    def fnv1a64(b):
        h = 0xcbf29ce484222325
        for x in b:
            h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        return h

    # bytes after the last tensor (the data section must end with it)
    files["trailing_bytes"] = base + b"\0" * 64

    # a 4-byte gap between emb.pitch and the rest
    h = copy.deepcopy(header)
    gap_at = header["emb.pitch"]["data_offsets"][1]
    for n in names:
        if n != "emb.pitch":
            h[n]["data_offsets"] = [o + 4 for o in h[n]["data_offsets"]]
    files["data_gap"] = mnet_bytes(h, data[:gap_at] + b"\0" * 4 + data[gap_at:])

    # the header length one byte short: the last padding space becomes data
    files["header_len_short"] = struct.pack("<Q", struct.unpack("<Q", base[:8])[0] - 1) + base[8:]

    # integers with a leading zero: one number has one spelling
    variant("leading_zero_integer", meta_set("n_hidden", "04"))
    variant("leading_zero_duration", meta_set("durations", "06,12,24"))

    # a metadata value that is not UTF-8 (a raw 0xFF byte inside the JSON string)
    js = dumps(header).replace(b'"hostile base"', b'"hostile \xff base"')
    files["invalid_utf8"] = raw_file(js + b" " * ((-(8 + len(js))) % 64), data)

    # weights that are finite but make the network overflow
    files["huge_weights"] = mnet_bytes(header, struct.pack("<f", 3e38) * (len(data) // 4))

    # a pitch head biased so far down that every pitch logit is the same number
    def pitch_bias(h, d):
        b, e = h["head.pitch.b"]["data_offsets"]
        d[b:e] = struct.pack("<f", -1e30) * ((e - b) // 4)
    variant("pitch_bias_minus_1e30", data_edit=pitch_bias)

    # checksums: a valid one, one that does not match the data, one that is not 16 hex digits
    def with_sum(value):
        def f(h):
            h["__metadata__"]["data_fnv1a64"] = value
        return f
    good_sum = "%016x" % fnv1a64(data)
    variant("ok_checksum", with_sum(good_sum))

    def flip_weight(h, d):
        b = h["lstm.0.w_hh"]["data_offsets"][0]
        d[b:b + 4] = struct.pack("<f", struct.unpack("<f", d[b:b + 4])[0] + 0.25)
    variant("bad_checksum", with_sum(good_sum), flip_weight)
    variant("checksum_not_hex", with_sum(good_sum.upper()))

    # valid, with terminal escape sequences and controls in its metadata (for `info`)
    def escapes(h):
        h["__metadata__"]["name"] = "\u001b]0;owned\u0007\u001b[31mred\u001b[0m\u009b2J\r\u202e"
    variant("ok_escapes", escapes)

    for name, b in files.items():
        with open(os.path.join(out_dir, name + ".mnet"), "wb") as f:
            f.write(b)
    print(f"wrote {len(files)} files to {out_dir}")


if __name__ == "__main__":
    main()
