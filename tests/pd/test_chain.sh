#!/bin/sh
# test_chain.sh - run by run.sh in place of a plain batch run of test_chain.pd: requests sent
# from the object's own outlet (two reads, then two loads, in each done message). Pd pauses
# after the first read (the loader thread is up) and again at the end, each time until this
# script has sampled its /proc status; the thread count and virtual size must not grow.
# Prints Pd's console output, then the two comparisons, then Pd's exit status (and the figures
# on stderr). tools/check-threads.sh runs it on other patches: CHAIN_PATCH (default
# tests/pd/test_chain.pd), CHAIN_RT=1 for real-time Pd instead of -batch, PD_PATH for the folder
# of the externals (default the current one).
set -u
pd=${PD:-pd}
patch=${CHAIN_PATCH:-tests/pd/test_chain.pd}
mode=-batch
[ "${CHAIN_RT:-0}" = 1 ] && mode=-nobatch
dir=$(mktemp -d)
: >"$dir/log"
# the pid is Pd's (sh execs env, env execs Pd); the sanitizer runtime goes to Pd alone
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
    timeout 120 sh -c 'echo $$ >"$0"; exec "$@"' "$dir/pid" env LD_PRELOAD="${PD_PRELOAD:-}" \
    "$pd" -nogui -noaudio -nomidi -nrt $mode -stderr -path "${PD_PATH:-$(pwd)}" \
    -open "$patch" -send "chain-start symbol $dir" >"$dir/log" 2>&1 &
job=$!

# sample PATTERN GATE: waits for PATTERN in Pd's output, prints Threads and VmSize (kB), then
# opens the gate Pd polls for
sample() {
    while ! grep -q "$1" "$dir/log"; do
        # Pd's pid (its parent, timeout, reaps it): gone means it ended without PATTERN
        p=$(cat "$dir/pid" 2>/dev/null)
        [ -z "$p" ] || kill -0 "$p" 2>/dev/null || { echo "0 0"; return; }
        sleep 0.05
    done
    awk '/^Threads:/ { t = $2 } /^VmSize:/ { v = $2 } END { print t, v }' \
        "/proc/$(cat "$dir/pid")/status"
    : >"$dir/$2"
}
start=$(sample "chain: start" go1)
end=$(sample "chain: end" go2)
wait "$job"
rc=$?
cat "$dir/log"
rm -rf "$dir"
set -- $start $end
echo "chain: Threads $1 at the start, $3 at the end;" \
    "VmSize $2 kB at the start, $4 kB at the end" >&2
if [ "$1" = "$3" ]; then echo "threads: same"
else echo "threads: $1 at the start, $3 at the end"; fi
# within one thread stack (8 MB): a thread that ends unjoined leaves its stack mapped
if [ $(($4 - $2)) -lt 8192 ] && [ $(($2 - $4)) -lt 8192 ]; then echo "vmsize: flat"
else echo "vmsize: $2 kB at the start, $4 kB at the end"; fi
echo "exit $rc"
