#!/bin/sh
# demo.sh - renders a generated melody with Pd in batch mode (tests/pd/demo.pd: randomseed 7,
# a seed melody, 32 notes at 100 bpm through a small synth) to demo.wav and demo.mid in the
# repo root, draws demo.svg when `bin/melodynet roll` exists, and prints the paths. Fails when
# the WAV is missing or silent. Run from the repo root after `make`.
set -eu
root=$(pwd)
out=${DEMO_DIR:-$root}
pd=${PD:-pd}
if [ ! -f models/default.mnet ]; then
    echo "demo: models/default.mnet is missing (the demo plays the bundled model)" >&2
    exit 1
fi
rm -f "$out/demo.wav" "$out/demo.mid" "$out/demo.svg"
timeout 300 "$pd" -nogui -noaudio -nomidi -r 44100 -batch -stderr -path "$root" -open tests/pd/demo.pd \
    -send "demo-start symbol $out" 2>&1 | grep -v -e "^demo: " -e "biggest amplitude" || true
python3 - "$out/demo.wav" <<'PY'
import sys, wave, array
path = sys.argv[1]
try:
    w = wave.open(path)
except (OSError, EOFError, wave.Error) as e:
    sys.exit("demo: %s missing or unreadable (%s)" % (path, e))
a = array.array('h', w.readframes(w.getnframes()))
peak = max((abs(v) for v in a), default=0) / 32768.0
secs = w.getnframes() / float(w.getframerate())
print("demo: %s: %.1f s, peak %.3f" % (path, secs, peak))
if peak < 0.01:
    sys.exit("demo: %s is silent" % path)
PY
[ -s "$out/demo.mid" ] || { echo "demo: $out/demo.mid was not written" >&2; exit 1; }
# read it back with an independent reader (python3-mido)
/usr/bin/python3 - "$out/demo.mid" <<'PY'
import sys
import mido
m = mido.MidiFile(sys.argv[1])
notes = sum(1 for t in m.tracks for x in t if x.type == "note_on" and x.velocity > 0)
if notes == 0:
    sys.exit("demo: %s holds no notes" % sys.argv[1])
print("demo: %s: %d notes, %.1f s (read back with mido)" % (sys.argv[1], notes, m.length))
PY
if [ -x bin/melodynet ] && bin/melodynet roll --help >/dev/null 2>&1; then
    if bin/melodynet roll "$out/demo.mid" -o "$out/demo.svg"; then
        echo "demo: $out/demo.svg"
    else
        echo "demo: bin/melodynet roll failed; no demo.svg" >&2
    fi
fi
