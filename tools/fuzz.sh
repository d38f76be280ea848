#!/bin/sh
# fuzz.sh [SECONDS] [HARNESS...] - builds the libFuzzer harnesses of tests/fuzz/ (all by
# default: json, midi, model, modelfile, session, ngram, checkpoint, csv, data, notes, scale,
# copyidx, message)
# with clang under AddressSanitizer and UndefinedBehaviorSanitizer and runs each, one after the
# other, for SECONDS (default 60), from tests/fuzz/corpus/<harness>/ and the test fixtures that
# fit, with tests/fuzz/<harness>.dict. Corpora and findings go to build/fuzz/<harness>/.
# Prints one line per harness (executions, executions per second, coverage: edges and
# features, corpus size) and exits non-zero if any harness found a crash, leak, timeout or
# undefined behaviour, naming the reproducer and how to replay it.
set -u
seconds=${1:-60}
[ $# -gt 0 ] && shift
harnesses=${*:-json midi model modelfile session ngram checkpoint csv data notes scale copyidx message}
case "$seconds" in ''|*[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS] [HARNESS...]" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.." || exit 2
tools/install-deps.sh clang libclang-rt-14-dev || exit 2

CC=${FUZZ_CC:-clang}
out=build/fuzz
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -D_GNU_SOURCE -Icore/rt -Icore/tools -g -O1 $san"
libs="-lopenblas -lm -lpthread"
# the core sources: the Makefile's CORE_RT and CORE_TOOLS (`make fuzz` passes them), else core/*/*.c
core_srcs=${MN_CORE_SRCS:-$(ls core/*/*.c)}
mkdir -p "$out/obj" "$out/bin" || exit 2

# the core, built once with the fuzzing instrumentation (rebuilt when a source changes)
objs=""
for src in $core_srcs; do
    m=$(basename "$src" .c)
    o="$out/obj/$m.o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find core -name '*.h' -newer "$o")" ]
    then
        $CC $cflags -c "$src" -o "$o" || { echo "fuzz: cannot build $src" >&2; exit 2; }
    fi
    objs="$objs $o"
done

# Seeds: the committed corpus of each harness plus the test fixtures that fit it. The fixtures
# are copied, not listed, so that libFuzzer only ever writes into build/.
seed() { # harness files...
    d="$out/$1/seeds"; shift
    mkdir -p "$d"
    for f in "$@"; do [ -f "$f" ] && cp "$f" "$d/"; done
}
largest() { # dir: size in bytes of its largest file
    ls -l "$1" | awk 'NR > 1 && $5 > m { m = $5 } END { print m + 0 }'
}

status=0
for h in $harnesses; do
    src=tests/fuzz/fuzz_$h.c
    [ -f "$src" ] || { echo "fuzz: no harness $src" >&2; exit 2; }
    dir=$out/$h
    bin=$out/bin/fuzz_$h
    rm -rf "$dir/seeds" "$dir/crashes"
    mkdir -p "$dir/corpus" "$dir/crashes" "$dir/seeds"
    $CC $cflags -Itests/fuzz "$src" $objs -o "$bin" $libs || {
        echo "fuzz: cannot build $src" >&2; exit 2; }
    case $h in
    midi)
        seed midi tests/fixtures/midi/*.mid
        max_len=65536 ;;
    model|modelfile)
        seed "$h" tests/fixtures/hostile/*.mnet tests/fixtures/ref/small.mnet
        # the largest model seed, with room to grow a little
        max_len=$(( $(largest "$dir/seeds") + 4096 )) ;;
    json)
        # the JSON headers of the model fixtures
        python3 - "$dir/seeds" tests/fixtures/hostile/*.mnet tests/fixtures/ref/small.mnet <<'EOF'
import os, struct, sys
for p in sys.argv[2:]:
    b = open(p, "rb").read()
    if len(b) < 8: continue
    n = struct.unpack("<Q", b[:8])[0]
    if 0 < n <= len(b) - 8:
        open(os.path.join(sys.argv[1], os.path.basename(p) + ".json"), "wb").write(b[8:8 + n])
EOF
        max_len=16384 ;;
    ngram)
        max_len=16384 ;;
    copyidx)
        seed copyidx tests/fixtures/ref/small_guard.mncopy
        max_len=8192 ;;
    session)
        # architecture bytes, then weights (repeated to fill the model)
        max_len=4096 ;;
    checkpoint)
        # checkpoints of the harness's own corpus, written by the harness
        MN_FUZZ_WRITE_SEEDS="$dir/seeds" "$bin" >/dev/null 2>&1 || {
            echo "fuzz: $bin cannot write its seeds" >&2; exit 2; }
        max_len=$(( $(largest "$dir/seeds") + 4096 )) ;;
    csv)
        max_len=16384 ;;
    data|notes|scale|message)
        max_len=4096 ;;
    *)
        max_len=65536 ;;
    esac
    [ -d "tests/fuzz/corpus/$h" ] && seed "$h" tests/fuzz/corpus/"$h"/*
    [ "$max_len" -ge 4096 ] || max_len=4096

    dict=""
    [ -f "tests/fuzz/$h.dict" ] && dict="-dict=tests/fuzz/$h.dict"

    log=$dir/log
    nice -n 10 "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$max_len" \
        -timeout=20 -print_final_stats=1 -artifact_prefix="$dir/crashes/" $dict \
        "$dir/corpus" "$dir/seeds" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    corpus=$(ls "$dir/corpus" | wc -l)
    found=$(ls "$dir/crashes" 2>/dev/null | head -n 1)
    if [ $rc -eq 0 ] && [ -z "$found" ]; then
        printf 'fuzz %-10s ok   %10s execs %7s/s  cov %5s  ft %6s  corpus %s\n' "$h" \
               "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$corpus"
    else
        status=1
        why=$(grep -m 1 -E 'invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
              "$log" | cut -c 1-160)
        printf 'fuzz %-10s FAIL %10s execs  cov %s: %s\n' "$h" "${execs:-?}" "${cov:-?}" \
               "${why:-exit $rc, see $log}"
        if [ -n "$found" ]; then
            echo "  reproducer: $dir/crashes/$found"
            echo "  replay:     $bin $dir/crashes/$found"
        fi
        echo "  log:        $log"
    fi
done
exit $status
