#!/bin/sh
# report-sweep.sh [REPORT_OPTIONS...] - runs `melodynet report` with 300 melodies of 64 events at
# temperatures 0.8, 1.0 and 1.2, unprimed and primed with 8 real notes, and prints one markdown
# row per setting with the listener figures (stuck runs, loops, notes per bar, pickup share,
# largest leap, range, longest copied run), then the same figures of the real tunes. Each setting
# is also counted by tests/reference/melody_figures.py from the saved MIDI files (stuck / loops /
# notes per bar in brackets). With --max-copy K, a last column gives the guard's cost. DATA (default ../shared/data) holds the corpora; CLI the binary.
data=${DATA:-../shared/data}
cli=${CLI:-bin/melodynet}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
train="$data/nottingham/train.txt $data/essen/train.txt"
valid="$data/nottingham/valid.txt $data/essen/valid.txt"
echo "| setting | stuck | loops | notes per bar | pickup | largest leap, mean / max | range | copied run, mean / max | script: stuck / loops / notes per bar |"
echo "|---|---|---|---|---|---|---|---|---|"
for prime in 0 8; do
    for t in 0.8 1.0 1.2; do
        rm -rf "$tmp/m"
        nice -n 10 "$cli" report --train $train --valid $valid -n 300 --length 64 --prime $prime \
            -t $t --json --save "$tmp/m" "$@" >"$tmp/r.json" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
        nice -n 10 /usr/bin/python3 tests/reference/melody_figures.py --json "$tmp"/m/gen_*.mid >"$tmp/p.json"
        [ $prime = 0 ] && label="unprimed, T $t" || label="primed ($prime events), T $t"
        /usr/bin/python3 - "$tmp/r.json" "$tmp/p.json" "$label" <<'PY'
import json, sys
txt = open(sys.argv[1]).read()
dec = json.JSONDecoder()
r, end = dec.raw_decode(txt)
guard = dec.raw_decode(txt[end:].strip())[0] if txt[end:].strip() else None
p = json.load(open(sys.argv[2])); g = r['generated']
print('| %s | %d | %d | %.2f | %.2f | %.1f / %d | %d..%d | %.1f / %d | %d / %d / %.2f |%s' % (
    sys.argv[3], g['stuck_runs'], g['loops'], g['notes_per_bar'], g['pickup'], g['leap_max_mean'],
    g['leap_max'], g['pitch_lo'], g['pitch_hi'], g['copy_mean'], g['copy_max'], p['stuck_runs'],
    p['loops'], p['notes_per_bar'],
    ' guard %.4f bits/event |' % guard['guard_bits_per_event'] if guard else ''))
if sys.argv[3].startswith('primed') and sys.argv[3].endswith('1.2'):
    for k, lab in (('reference', 'real continuations (valid)'), ('train', 'training tunes')):
        s = r[k]
        print('| %s | %d (%.2f per 300 x 64) | %d | %.2f | %.2f | %.1f / %d | %d..%d | %s | |' % (
            lab, s['stuck_runs'], s['stuck_per_300x64'], s['loops'], s['notes_per_bar'],
            s['pickup'], s['leap_max_mean'], s['leap_max'], s['pitch_lo'], s['pitch_hi'],
            '%.1f / %d' % (s['copy_mean'], s['copy_max']) if 'copy_mean' in s else '-'))
PY
        if [ $prime = 0 ] && [ $t = 1.2 ]; then
            /usr/bin/python3 - "$tmp/r.json" <<'PY'
import json, sys
s = json.JSONDecoder().raw_decode(open(sys.argv[1]).read())[0]['reference']
print('| real tune openings (valid, first 64 events) | %d | %d | %.2f | %.2f | %.1f / %d | %d..%d | %.1f / %d | |' % (
    s['stuck_runs'], s['loops'], s['notes_per_bar'], s['pickup'], s['leap_max_mean'],
    s['leap_max'], s['pitch_lo'], s['pitch_hi'], s['copy_mean'], s['copy_max']))
PY
        fi
    done
done
