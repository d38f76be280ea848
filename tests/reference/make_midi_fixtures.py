#!/usr/bin/python3
"""make_midi_fixtures.py - writes the MIDI fixtures of tests/test_midi.c into tests/fixtures/midi.

Tunes laid out like the corpora in ../shared/data (format 1, 480 ticks per quarter, a conductor
track with name, time and key signature, a track "melody" with the notes on channel 0 at
velocity 90, bar lines counted from tick 0, a pickup starting partway through bar 0), each with
a twin .txt listing its notes ("pitch onset_ticks dur_ticks velocity") for tests/mido_check.py.
Also tiny hostile files, each broken in one way. Run: /usr/bin/python3 make_midi_fixtures.py
"""
import os
import struct

import mido

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "midi")
TPQ = 480
E = TPQ // 2  # eighth note


def tune(name, notes, ts, key=None, tempo=None, ts_changes=()):
    """notes: (pitch, onset, dur) in ticks at 480; ts: (num, den); ts_changes: (tick, num, den)."""
    mf = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    cond = mido.MidiTrack()
    cond.append(mido.MetaMessage("track_name", name=name, time=0))
    cond.append(mido.MetaMessage("time_signature", numerator=ts[0], denominator=ts[1], time=0))
    if key:
        cond.append(mido.MetaMessage("key_signature", key=key, time=0))
    if tempo:
        cond.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    now = 0
    for tick, num, den in ts_changes:
        cond.append(mido.MetaMessage("time_signature", numerator=num, denominator=den,
                                     time=tick - now))
        now = tick
    cond.append(mido.MetaMessage("end_of_track", time=0))
    mel = mido.MidiTrack()
    mel.append(mido.MetaMessage("track_name", name="melody", time=0))
    now = 0
    for pitch, on, dur in notes:
        assert on >= now, (name, pitch, on)
        mel.append(mido.Message("note_on", channel=0, note=pitch, velocity=90, time=on - now))
        mel.append(mido.Message("note_off", channel=0, note=pitch, velocity=0, time=dur))
        now = on + dur
    mel.append(mido.MetaMessage("end_of_track", time=0))
    mf.tracks += [cond, mel]
    mf.save(os.path.join(OUT, name + ".mid"))
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        for pitch, on, dur in notes:
            f.write("%d %d %d 90\n" % (pitch, on, dur))


def line(start, spec):
    """spec: (pitch or None for a rest, dur); returns notes laid end to end from start."""
    out, t = [], start
    for pitch, dur in spec:
        if pitch is not None:
            out.append((pitch, t, dur))
        t += dur
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    # 4/4 reel in G with a two-eighth pickup (starts at tick 1440 of bar 0) and a quarter rest
    tune("reel_pickup", line(3 * TPQ, [
        (74, E), (76, E),
        (79, TPQ), (78, E), (76, E), (74, TPQ), (None, TPQ),
        (71, E), (72, E), (74, E), (76, E), (79, E + E // 2), (78, E // 2), (79, TPQ),
        (67, 4 * TPQ),
    ]), ts=(4, 4), key="G")
    # 6/8 jig at 100 bpm with an eighth pickup (tick 1200 of a 1440-tick bar) and a dotted rest
    tune("jig_68", line(5 * E, [
        (62, E),
        (67, E), (71, E), (67, E), (66, 3 * E),
        (64, E), (66, E), (67, E), (69, E), (None, 2 * E),
        (74, 3 * E), (71, 2 * E), (69, E),
        (67, 6 * E),
    ]), ts=(6, 8), key="G", tempo=100)
    # 3/4 waltz with eighth triplets (160 ticks), then 2/4 from bar 2 (tick 2880)
    third = TPQ // 3
    tune("waltz_change", line(0, [
        (60, TPQ), (64, third), (65, third), (67, third), (72, TPQ),
        (71, 2 * TPQ), (None, TPQ),
        (69, TPQ), (67, TPQ),
        (65, E), (64, E), (62, TPQ),
    ]), ts=(3, 4), ts_changes=[(6 * TPQ, 2, 4)])

    def hdr(fmt=1, ntrk=1, div=TPQ, length=6):
        return b"MThd" + struct.pack(">IHHH", length, fmt, ntrk, div)

    def trk(body):
        return b"MTrk" + struct.pack(">I", len(body)) + body

    note = b"\x00\x90\x3c\x5a\x83\x60\x80\x3c\x00"  # C4 for one quarter
    eot = b"\x00\xff\x2f\x00"
    hostile = {
        "empty": b"",
        "truncated_header": hdr()[:10],
        "bad_magic": b"RIFF" + hdr()[4:] + trk(note + eot),
        "chunk_past_end": hdr() + b"MTrk" + struct.pack(">I", 1000) + note + eot,
        "vlq_too_long": hdr() + trk(b"\xff\xff\xff\xff\x7f\x90\x3c\x5a" + eot),
        "running_status": hdr() + trk(b"\x00\x3c\x5a" + eot),
        "smpte": hdr(div=0xE250) + trk(note + eot),
        "zero_tracks": hdr(ntrk=0),
        "many_tracks": hdr(ntrk=60000) + trk(note + eot),
        "truncated_meta": hdr() + trk(note + b"\x00\xff\x51\x03\x07"),
        "format2": hdr(fmt=2) + trk(note + eot),
    }
    # A C-major scale in running status, interrupted by a meta event after each note (the case
    # of jazz-soft's test-running-status-metaevent.mid): the meta events leave the running
    # status in force, as in mido and players
    body = b"\x00\xff\x58\x04\x04\x02\x18\x08"  # 4/4
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    for i, pitch in enumerate(scale):
        body += b"\x00" + (b"\x90" if i == 0 else b"") + bytes([pitch, 0x5a])
        body += b"\x83\x60" + bytes([pitch, 0x00])  # a quarter later, velocity 0: note off
        body += b"\x00\xff\x01\x01" + bytes([0x41 + i])  # text "A".."H"
    with open(os.path.join(OUT, "running_status_meta.mid"), "wb") as f:
        f.write(hdr(fmt=0) + trk(body + eot))
    with open(os.path.join(OUT, "running_status_meta.txt"), "w") as f:
        for i, pitch in enumerate(scale):
            f.write("%d %d %d 90\n" % (pitch, i * TPQ, TPQ))

    for name, data in hostile.items():
        with open(os.path.join(OUT, "hostile_%s.mid" % name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
