#!/bin/sh
# check-threads.sh TSAN_EXTDIR RELEASE_EXTDIR [ASAN_EXTDIR] - `make check-threads`: the
# scenarios of tests/threads/ in real-time Pd (-nobatch, with a timeout; each patch ends with
# `; pd quit`) with the externals built with ThreadSanitizer in TSAN_EXTDIR and its runtime
# preloaded, then the deletion-while-loading test of tests/pd/ the same way. Any ThreadSanitizer
# report, crash, timeout or unfinished scenario fails. The chained requests (1000 rounds of two
# reads, then of two loads, sent from the outlet) run in the TSan build and in the release build
# of RELEASE_EXTDIR; Pd's thread count and virtual size, sampled at the start and the end, must
# stay flat. With ASAN_EXTDIR, the loader's tests of tests/pd run once more with the externals
# built with AddressSanitizer and leak detection on. The learn test of tests/pd (two fine-tuning
# threads, one object deleted while it learns) runs under ThreadSanitizer too, and under
# AddressSanitizer with leak detection. Under pd -rt, the loader thread must not run at the
# scheduler's real-time policy (release build). Exits non-zero on any failure.
set -u
tsan_dir=$1
rel_dir=$2
asan_dir=${3:-}
tsan=$(${CC:-gcc} -print-file-name=libtsan.so)
[ -f "$tsan" ] || { echo "check-threads: no libtsan.so ($tsan)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fails=0

fail() {
    echo "FAIL $1: $2"
    grep -m 40 -A 30 "WARNING: ThreadSanitizer" "$3" | head -60
    fails=$((fails + 1))
}

# verdict NAME LOG RC [PATTERN...]: a clean log holds every PATTERN
verdict() {
    name=$1 log=$2 rc=$3
    shift 3
    if grep -q "WARNING: ThreadSanitizer" "$log"; then
        fail "$name" "$(grep -c "WARNING: ThreadSanitizer" "$log") ThreadSanitizer reports" "$log"
        return
    fi
    if grep -q "couldn't create" "$log"; then fail "$name" "an object could not be created" "$log"
        return; fi
    if [ "$rc" -ne 0 ]; then fail "$name" "Pd exited with $rc" "$log"; return; fi
    for pat in "$@"; do
        if ! grep -q "^$pat\$" "$log"; then fail "$name" "no line '$pat'" "$log"; return; fi
    done
    echo "ok   $name"
}

for s in load_playing corrupt_load_playing load_cycles delete_loading delete_from_answer \
    tilde_metro; do
    LD_PRELOAD=$tsan timeout 300 pd -nogui -noaudio -nomidi -nrt -nobatch -stderr \
        -path "$tsan_dir" -open "tests/threads/$s.pd" >"$out/$s.log" 2>&1
    rc=$?
    grep -E "^(notes|loaded)-" "$out/$s.log" | tr '\n' ' ' | sed "s/^/     $s: /; s/ \$/\n/"
    verdict "$s" "$out/$s.log" $rc "scenario: done"
done

# pd -rt runs its scheduler thread under SCHED_FIFO: the loader thread must not inherit it
# (a model load at audio priority would hold up the audio on a busy core). Skipped when Pd
# cannot get a real-time policy here.
HOME=$out timeout 30 pd -rt -nogui -noaudio -nomidi -stderr -path "$rel_dir" \
    -open tests/threads/rt_policy.pd >"$out/rt.log" 2>&1 &
tpid=$!
sleep 3
rtpd=$(pgrep -n -x pd -P "$tpid")
main_pol=$(chrt -p "$rtpd" 2>/dev/null | sed -n 's/.*policy: //p')
others=""
for t in /proc/$rtpd/task/*; do
    tid=${t##*/}
    [ "$tid" = "$rtpd" ] && continue
    others="$others $(chrt -p "$tid" 2>/dev/null | sed -n 's/.*policy: //p')"
done
kill "$rtpd" 2>/dev/null; wait "$tpid" 2>/dev/null
if [ "$main_pol" != "SCHED_FIFO" ]; then
    echo "skip rt_policy: Pd did not get a real-time policy here ($main_pol)"
elif [ -z "$(echo $others)" ]; then
    fail rt_policy "no loader thread started" "$out/rt.log"
elif echo "$others" | grep -q "SCHED_FIFO\|SCHED_RR"; then
    fail rt_policy "a worker thread runs at the scheduler's real-time policy:$others" "$out/rt.log"
else
    echo "ok   rt_policy: scheduler SCHED_FIFO, workers$others"
fi

# writes from both objects every 20 ms while they play and parameters change every 1 ms: the
# loader writes the files while [melodynet~]'s look-ahead hands out the notes played
mkdir "$out/write"
LD_PRELOAD=$tsan timeout 300 pd -nogui -noaudio -nomidi -nrt -nobatch -stderr \
    -path "$tsan_dir" -open tests/threads/write_playing.pd -send "write-dir symbol $out/write" \
    >"$out/write.log" 2>&1
rc=$?
grep -E "^(wrote|errors|notes)-" "$out/write.log" | tr '\n' ' ' | sed "s/^/     write_playing: /; s/ \$/\n/"
verdict write_playing "$out/write.log" $rc "scenario: done"

# objects deleted while the loader is held up in one of their files (see the test)
PD_PRELOAD=$tsan PD_PATH=$tsan_dir sh tests/pd/test_delete_loading.sh |
    sed "s#$(pwd)#<root>#g" >"$out/dl.log"
if diff -u tests/pd/test_delete_loading.golden "$out/dl.log" >"$out/dl.diff"; then
    echo "ok   delete_held_up"
else
    fail delete_held_up "output differs from tests/pd/test_delete_loading.golden" "$out/dl.log"
    head -20 "$out/dl.diff"
fi

# learn: two runs on their own threads while the objects play, one ended by learn stop, one
# object deleted while it learns (see the test)
PD_PRELOAD=$tsan PD_PATH=$tsan_dir sh tests/pd/test_learn.sh >"$out/learn.log" 2>&1
if grep -q "WARNING: ThreadSanitizer" "$out/learn.log"; then
    fail learn "$(grep -c "WARNING: ThreadSanitizer" "$out/learn.log") ThreadSanitizer reports" "$out/learn.log"
elif diff -u tests/pd/test_learn.golden "$out/learn.log" >"$out/learn.diff"; then
    echo "ok   learn"
else
    fail learn "output differs from tests/pd/test_learn.golden" "$out/learn.log"
    head -20 "$out/learn.diff"
fi

for build in tsan release; do
    if [ $build = tsan ]; then pre=$tsan dir=$tsan_dir; else pre= dir=$rel_dir; fi
    CHAIN_PATCH=tests/threads/chain.pd CHAIN_RT=1 PD_PRELOAD=$pre PD_PATH=$dir \
        sh tests/pd/test_chain.sh >"$out/chain.log" 2>"$out/chain.err"
    echo "     chain ($build): $(cat "$out/chain.err")"
    cat "$out/chain.err" >>"$out/chain.log"
    verdict "chain_$build" "$out/chain.log" 0 "reads: 1002" "loads: 1001" "chain: end" \
        "threads: same" "vmsize: flat" "exit 0"
done

# the loader's tests with the AddressSanitizer build and leak detection: requests of deleted
# objects (a write among them) and of chained answers are all freed
if [ -n "$asan_dir" ]; then
    asan=$(${CC:-gcc} -print-file-name=libasan.so)
    for t in test_delete_loading test_chain test_write test_learn; do
        PD_PRELOAD=$asan PD_PATH=$asan_dir ASAN_OPTIONS=detect_leaks=1 sh "tests/pd/$t.sh" \
            >"$out/$t.log" 2>&1
        if grep -q "ERROR: \(LeakSanitizer\|AddressSanitizer\)" "$out/$t.log"; then
            echo "FAIL leaks_$t: sanitizer report"
            grep -A 12 "ERROR: \|Direct leak\|Indirect leak" "$out/$t.log" | head -40
            fails=$((fails + 1))
        elif ! grep -q "^exit 0\$" "$out/$t.log"; then
            echo "FAIL leaks_$t: did not end well"
            tail -5 "$out/$t.log"
            fails=$((fails + 1))
        else
            echo "ok   leaks_$t"
        fi
    done
fi

if [ $fails -ne 0 ]; then
    echo "check-threads: $fails failed"
    exit 1
fi
echo "check-threads: all passed"
