#!/usr/bin/python3
"""melody_figures.py - an independent count of what a listener hears in generated melodies, to
cross-check `melodynet report` and `melodynet generate --max-copy`. Reads melodies from MIDI files
(with mido) or from `melodynet generate --json` output, and prints:

  stuck   runs of 12 or more notes of the same pitch in a row (rests skipped)
  loops   melodies whose last 32 events (pitch or rest, and duration) repeat with a period <= 8
  notes per bar   notes / bars covered, the bar taken from the file's time signature (or the
          events' bar_beats in JSON)
  copy    the longest run of consecutive intervals found verbatim in one training tune, and how
          many melodies hold a run longer than --max-copy K (exit status 1 if any)

Nothing here uses melodynet's code: MIDI is parsed by mido, the top voice is taken as the highest
sounding note, and the copy search is a plain substring search over the training tunes' interval
strings (joined with a separator no melody holds).

usage: melody_figures.py [--train LIST_OR_MIDI...] [--max-copy K] [--json] MELODY...
  MELODY: .mid files, folders of them, or .json files written by `generate --json`.
"""
import json
import os
import sys

import mido

STUCK, LOOP_SPAN, LOOP_PERIOD = 12, 32, 8
TPQ = 24


def read_midi(path):
    """Events (pitch or None, dur_ticks at 24 per quarter) and the bar length in ticks."""
    mid = mido.MidiFile(path)
    div = mid.ticks_per_beat
    notes, bar = [], None
    for track in mid.tracks:
        t, on = 0, {}
        for msg in track:
            t += msg.time
            if msg.type == 'time_signature' and bar is None:
                bar = msg.numerator * 4 * TPQ // msg.denominator
            elif msg.type == 'note_on' and msg.velocity > 0:
                on.setdefault((msg.channel, msg.note), []).append(t)
            elif msg.type in ('note_off', 'note_on'):
                starts = on.get((msg.channel, msg.note))
                if starts:
                    s = starts.pop(0)
                    if t > s:
                        notes.append((s, t, msg.note))
    # top voice: a higher note cuts a sounding one, a lower note under a sounding one is dropped
    notes.sort(key=lambda n: (n[0], -n[2]))
    line = []
    for s, e, p in notes:
        if line and line[-1][1] > s:
            if p <= line[-1][2]:
                continue
            line[-1] = (line[-1][0], s, line[-1][2])
        line.append((s, e, p))
    ev = []
    q = lambda x: int(round(x * TPQ / div))
    prev_end = None
    for s, e, p in line:
        s24, e24 = q(s), max(q(e), q(s) + 1)
        if prev_end is not None and s24 > prev_end:
            ev.append((None, s24 - prev_end))
        if ev and prev_end is not None and s24 < prev_end:
            ev[-1] = (ev[-1][0], ev[-1][1] - (prev_end - s24))
        ev.append((p, e24 - s24))
        prev_end = e24
    return [e for e in ev if e[1] > 0], bar or 4 * TPQ


def read_json(path):
    d = json.load(open(path))
    ev = [(e['pitch'], int(round(e['duration_beats'] * TPQ))) for e in d['events']]
    bars = [e.get('bar_beats') for e in d['events'] if e.get('bar_beats')]
    bar = int(round(bars[-1] * TPQ)) if bars else 4 * TPQ
    return ev, bar


def expand(args):
    out = []
    for a in args:
        if os.path.isdir(a):
            for root, _, files in sorted(os.walk(a)):
                out += [os.path.join(root, f) for f in sorted(files)
                        if f.lower().endswith(('.mid', '.midi', '.json'))]
        elif a.endswith('.txt'):
            base = os.path.dirname(a)
            for line in open(a):
                line = line.strip()
                if line and not line.startswith('#'):
                    out.append(line if line.startswith('/') else os.path.join(base, line))
        else:
            out.append(a)
    return out


def intervals(ev):
    ps = [p for p, _ in ev if p is not None]
    return [b - a for a, b in zip(ps, ps[1:])]


def stuck_runs(ev):
    runs, run, prev = 0, 0, None
    for p, _ in ev:
        if p is None:
            continue
        run = run + 1 if p == prev else 1
        prev = p
        if run == STUCK:
            runs += 1
    return runs


def is_loop(ev):
    if len(ev) < LOOP_SPAN:
        return False
    tail = ev[-LOOP_SPAN:]
    return any(all(tail[i] == tail[i - p] for i in range(p, LOOP_SPAN))
               for p in range(1, LOOP_PERIOD + 1))


def enc(iv):
    return ''.join(chr(0x1000 + d) for d in iv)


def longest_copy(q, text):
    """Longest run of consecutive intervals of q found in text (two pointers, substring search)."""
    s = enc(q)
    best, i = 0, 0
    for j in range(len(s)):
        while i <= j and s[i:j + 1] not in text:
            i += 1
        best = max(best, j + 1 - i)
    return best


def main(argv):
    train, mels, max_copy, as_json = [], [], None, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--train':
            while i + 1 < len(argv) and not argv[i + 1].startswith('--'):
                train.append(argv[i + 1])
                i += 1
        elif a == '--max-copy':
            max_copy = int(argv[i + 1])
            i += 1
        elif a == '--json':
            as_json = True
        else:
            mels.append(a)
        i += 1
    files = expand(mels)
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    melodies = [read_json(f) if f.endswith('.json') else read_midi(f) for f in files]
    if not melodies:
        print('no melodies', file=sys.stderr)
        return 2
    n_ev = sum(len(ev) for ev, _ in melodies)
    notes = sum(1 for ev, _ in melodies for p, _ in ev if p is not None)
    bars = sum(sum(d for _, d in ev) / bar for ev, bar in melodies)
    res = {
        'melodies': len(melodies), 'events': n_ev, 'notes': notes,
        'stuck_runs': sum(stuck_runs(ev) for ev, _ in melodies),
        'loops': sum(is_loop(ev) for ev, _ in melodies),
        'notes_per_bar': notes / bars if bars else 0.0,
    }
    rc = 0
    if train:
        tunes = []
        for f in expand(train):
            try:
                tunes.append(read_midi(f)[0])
            except (OSError, ValueError, EOFError, KeyError, IndexError) as e:
                print('skipped %s: %s' % (f, e), file=sys.stderr)
        text = '\0'.join(enc(intervals(ev)) for ev in tunes)
        runs = [longest_copy(intervals(ev), text) for ev, _ in melodies]
        res['copy_max'] = max(runs)
        res['copy_mean'] = sum(runs) / len(runs)
        if max_copy is not None:
            over = [f for f, r in zip(files, runs) if r > max_copy]
            res['max_copy'] = max_copy
            res['over_max_copy'] = len(over)
            if over:
                rc = 1
                print('runs longer than %d: %s' % (max_copy, ' '.join(over[:10])), file=sys.stderr)
    if as_json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print('%-14s %s' % (k, round(v, 3) if isinstance(v, float) else v))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
