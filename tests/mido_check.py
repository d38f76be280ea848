#!/usr/bin/python3
"""mido_check.py - checks a MIDI file's notes with mido, a reader independent of core/rt/midi.c.

Usage: mido_check.py FILE.mid EXPECTED.txt
EXPECTED has one note per line, "pitch onset_ticks dur_ticks velocity" at the file's division
(blank lines and lines starting with # are ignored). Notes are paired per track, channel and
pitch (note-on velocity 0 is a note-off, a re-struck pitch ends the sounding one, notes open at
the end of a track end there; zero-length notes are left out), collected from every track and
compared with EXPECTED as sorted lists. Exits 0 on a match, 1 with a message on a mismatch,
2 when a file cannot be read.
"""
import sys

import mido


def notes_of(path):
    mf = mido.MidiFile(path)
    out = []
    for track in mf.tracks:
        t, open_ = 0, {}
        for msg in track:
            t += msg.time
            if msg.type not in ("note_on", "note_off"):
                continue
            key = (msg.channel, msg.note)
            if key in open_:
                on, vel = open_.pop(key)
                if t > on:
                    out.append((msg.note, on, t - on, vel))
            if msg.type == "note_on" and msg.velocity > 0:
                open_[key] = (t, msg.velocity)
        for (ch, pitch), (on, vel) in open_.items():
            if t > on:
                out.append((pitch, on, t - on, vel))
    return mf.ticks_per_beat, sorted(out)


def expected_of(path):
    out = []
    with open(path) as f:
        for no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 4:
                raise ValueError("%s:%d: expected 4 numbers, got %r" % (path, no, line))
            out.append(tuple(int(x) for x in parts))
    return sorted(out)


def main(argv):
    if len(argv) != 3:
        print("usage: mido_check.py FILE.mid EXPECTED.txt", file=sys.stderr)
        return 2
    try:
        division, got = notes_of(argv[1])
        want = expected_of(argv[2])
    except (OSError, ValueError, EOFError) as e:
        print("mido_check: %s" % e, file=sys.stderr)
        return 2
    if got == want:
        print("mido_check: %s: %d notes match (division %d)" % (argv[1], len(got), division))
        return 0
    print("mido_check: %s: %d notes, expected %d (division %d)"
          % (argv[1], len(got), len(want), division), file=sys.stderr)
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        if g != w:
            print("mido_check: first difference at sorted note %d: got %s, expected %s "
                  "(pitch onset dur velocity)" % (i, g, w), file=sys.stderr)
            break
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
