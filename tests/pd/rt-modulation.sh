#!/bin/sh
# rt-modulation.sh [SECONDS] - real-time checks of [melodynet~], in real-time Pd (no -batch: the
# scheduler follows the wall clock, also with -noaudio):
#  - tests/pd/rt_modulation.pd: the bundled model at bpm 600 with a parameter change every 1 ms
#    for SECONDS (default 10): the notes played, the changes sent and the underruns (notes not
#    ready in time);
#  - tests/pd/rt_phasor.pd: a [phasor~ 200] clock from DSP start and two melody commands 1 ms
#    apart, 2 s: 400 notes when none is missed, and the underruns;
#  - tests/pd/rt_fastforward.pd: "pd fast-forward 30000", 30 s of logical time at once: the notes
#    (as many as the same patch gives in -batch) and the underruns.
# Exits 1 when there was an underrun or a run did not finish. Timing depends on the machine, so
# this is a measurement, not part of `make check`. Run from the repo root.
set -u
secs=${1:-10}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
runrt() { # runrt PATCH SECONDS [args]: console output of a real-time run in $out
    p=$1 s=$2
    shift 2
    timeout $((s + 30)) ${PD:-pd} -nogui -noaudio -nomidi -stderr -path "$(pwd)" -open "$p" "$@" \
        >"$out" 2>&1
    grep -E '^(notes|changes|underruns):' "$out" | sed "s#^#$(basename "$p" .pd) #"
    grep -iE "error|couldn't create" "$out" | head -5
    grep -q '^underruns: 0$' "$out" || fail=1
}
runrt tests/pd/rt_modulation.pd "$secs" -send "rt-start $secs"
runrt tests/pd/rt_phasor.pd 2
runrt tests/pd/rt_fastforward.pd 1
exit $fail
