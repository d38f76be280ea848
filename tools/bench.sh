#!/bin/sh
# bench.sh [--quick] - the benchmark figures DESIGN.md holds us to, measured in one run and
# reported as ratios: one generation step of the bundled model against the memory-bandwidth
# bound and against PyTorch on the same weights, and training throughput at one thread against
# PyTorch on the same model and batch. --quick runs short versions (a smoke test for CI).
# MODEL and DATA override the model and the training data of the throughput run.
set -e
cd "$(dirname "$0")/.."
steps=5000; tsteps=20
[ "$1" = "--quick" ] && { steps=500; tsteps=2; }
model=${MODEL:-models/default.mnet}
if [ -z "$DATA" ]; then
    if [ -f ../shared/data/nottingham/train.txt ]; then DATA=../shared/data/nottingham/train.txt
    else DATA=tests/fixtures/midi; fi
fi
cli=bin/melodynet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && torch=1
[ $torch -eq 1 ] || echo "bench: python3-torch is not installed; PyTorch columns are skipped (apt-get install python3-torch)"

# jget KEY < JSON-LINE: the value, numbers with at most 2 decimals
jget() {
    /usr/bin/python3 -c 'import json,sys; v=json.loads(sys.stdin.readline())[sys.argv[1]]
print(round(v, 2) if isinstance(v, float) else v)' "$1"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model:   $model"

# one step
$cli bench -m "$model" --steps $steps --json >"$tmp/c"
c_med=$(jget median_us <"$tmp/c"); c_p99=$(jget p99_us <"$tmp/c"); bound=$(jget bound_us <"$tmp/c")
echo
echo "| step (batch 1, 1 thread) | median µs | p99 µs | ratio |"
echo "|---|---|---|---|"
echo "| melodynet | $c_med | $c_p99 | p99/median $(jget p99_over_median <"$tmp/c") (target ≤ 1.3) |"
echo "| memory-bandwidth bound ($(jget step_bytes <"$tmp/c") bytes at $(jget bandwidth_gb_s <"$tmp/c") GB/s) | $bound | | median/bound $(jget median_over_bound <"$tmp/c") (target ≤ 1.1) |"
if [ $torch -eq 1 ]; then
    /usr/bin/python3 tools/bench_step_torch.py "$model" $steps >"$tmp/t"
    # every way of writing the step, then the ratio against the fastest of them
    /usr/bin/python3 - "$tmp/t" "$c_med" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = float(sys.argv[2])
for name, v in r["variants"].items():
    if "median_us" in v:
        print("| PyTorch %s %s, 1 thread | %.2f | %.2f | PyTorch/melodynet %.2f |"
              % (r["torch"], name, v["median_us"], v["p99_us"], v["median_us"] / c))
    else:
        print("| PyTorch %s %s | failed: %s | | |" % (r["torch"], name, v["error"]))
print("| fastest PyTorch step (%s) | %.2f | %.2f | PyTorch/melodynet %.2f (target ≥ 2.5) |"
      % (r["fastest"], r["median_us"], r["p99_us"], r["median_us"] / c))
PY
fi

# training throughput
$cli train "$DATA" -o "$tmp/m.mnet" --bench-steps $tsteps --threads 1 >"$tmp/tr" 2>&1
n_dur=$(sed -n 's/.*durations=\([0-9]*\).*/\1/p' "$tmp/tr" | head -1)
c_tok=$(sed -n 's/.*(\([0-9]*\) per CPU second.*/\1/p' "$tmp/tr" | tail -1)
c_wall=$(sed -n 's/.* \([0-9]*\) tokens\/s.*/\1/p' "$tmp/tr" | tail -1)
echo
echo "| training, 2 x 256, batch 32 x 64, 1 thread | tokens/s | tokens per CPU second | ratio |"
echo "|---|---|---|---|"
echo "| melodynet train | $c_wall | $c_tok | |"
if [ $torch -eq 1 ]; then
    /usr/bin/python3 tools/bench_train_torch.py --steps $tsteps --threads 1 --durations "$n_dur" >"$tmp/tt"
    t_tok=$(sed -n 's/.*(\([0-9]*\) per CPU second.*/\1/p' "$tmp/tt")
    t_wall=$(sed -n 's/.* \([0-9]*\) tokens\/s.*/\1/p' "$tmp/tt")
    echo "| PyTorch | $t_wall | $t_tok | melodynet/PyTorch $(awk -v a="$c_wall" -v b="$t_wall" 'BEGIN{printf "%.2f", a/b}') in tokens/s, $(awk -v a="$c_tok" -v b="$t_tok" 'BEGIN{printf "%.2f", a/b}') per CPU second (target ≥ 1.25) |"
fi
