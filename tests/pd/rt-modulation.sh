#!/bin/sh
# rt-modulation.sh [SECONDS] - real-time check of [melodynet~] under modulation: runs
# tests/pd/rt_modulation.pd in real-time Pd (no -batch: the scheduler follows the wall clock,
# also with -noaudio) for SECONDS (default 10) at bpm 600 with a parameter change every 1 ms,
# and prints the notes played, the changes sent and the underruns (notes not ready in time).
# Exits 1 when there was an underrun or the run did not finish. Timing depends on the machine,
# so this is a measurement, not part of `make check`. Run from the repo root.
set -u
secs=${1:-10}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout $((secs + 30)) ${PD:-pd} -nogui -noaudio -nomidi -stderr -path "$(pwd)" \
    -open tests/pd/rt_modulation.pd -send "rt-start $secs" >"$out" 2>&1
grep -E '^(notes|changes|underruns):' "$out"
grep -iE "error|couldn't create" "$out" | head -5
grep -q '^underruns: 0$' "$out"
