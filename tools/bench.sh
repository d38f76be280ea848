#!/bin/sh
# bench.sh [--quick] [--write] - the benchmark figures DESIGN.md holds us to, measured in one run
# and reported as ratios:
#   - one generation step for four model shapes (2 x 128, the bundled 2 x 256, 3 x 256, 2 x 512),
#     weights hot (against the rate this machine reads them from cache) and cold (evicted before
#     each step, against the DRAM read rate), and against the fastest of four ways to write the
#     same step in PyTorch on the same weights;
#   - training tokens/s at one and two threads against PyTorch at the same thread count, and the
#     peak resident memory of both trainers.
# --quick runs short versions of the bundled model's rows (a smoke test for CI); --write puts the tables in BENCHMARKS.md
# (between its bench markers) with the date, machine and commit. MODEL and DATA override the
# bundled model and the training data. The 2 x 128, 3 x 256 and 2 x 512 models are random
# initialisations written by PyTorch; without python3-torch only the bundled model is timed.
set -e
cd "$(dirname "$0")/.."
steps=5000; tsteps=20; write=0
for a in "$@"; do
    case "$a" in
        --quick) steps=500; tsteps=2 ;;
        --write) write=1 ;;
        *) echo "usage: tools/bench.sh [--quick] [--write]" >&2; exit 2 ;;
    esac
done
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
out="$tmp/report.md"

# jget KEY < JSON-LINE: the value, numbers with at most 2 decimals
jget() {
    /usr/bin/python3 -c 'import json,sys; v=json.loads(sys.stdin.readline())[sys.argv[1]]
print(round(v, 2) if isinstance(v, float) else v)' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

{
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
[ $torch -eq 1 ] && echo "PyTorch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), threads pinned to 1 before import" ||
    echo "PyTorch: python3-torch is not installed; PyTorch columns and the other model shapes are skipped"
echo
echo "### One step (batch 1, one thread)"
echo
echo "| model | weights read | hot median µs | p99 µs | p99/median (≤ 1.3) | cache bound µs | hot/bound (≤ 1.1) | cold median µs | DRAM bound µs | cold/DRAM bound (≤ 1.3) | fastest PyTorch µs | PyTorch/melodynet (≥ 2.5) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$out"

shapes="2:256"
[ $torch -eq 1 ] && [ "$steps" -ne 500 ] && shapes="2:128 2:256 3:256 2:512"
for sh in $shapes; do
    L=${sh%:*}; H=${sh#*:}
    if [ "$sh" = "2:256" ]; then m=$model
    else
        m="$tmp/L${L}H${H}.mnet"
        /usr/bin/python3 tools/bench_model.py "$m" "$L" "$H" "$model"
    fi
    $cli bench -m "$m" --steps $steps --json >"$tmp/hot"
    $cli bench -m "$m" --steps $steps --cold --json >"$tmp/cold"
    med=$(jget median_us <"$tmp/hot"); bound=$(jget bound_us <"$tmp/hot")
    cmed=$(jget median_us <"$tmp/cold"); dbound=$(jget dram_bound_us <"$tmp/cold")
    mb=$(awk -v b="$(jget step_bytes <"$tmp/hot")" 'BEGIN{printf "%.2f MB", b/1e6}')
    tcol="| skipped | "
    if [ $torch -eq 1 ]; then
        /usr/bin/python3 tools/bench_step_torch.py "$m" $((steps / 2)) >"$tmp/t"
        tmed=$(jget median_us <"$tmp/t")
        tcol="$tmed ($(jget fastest <"$tmp/t")) | $(ratio "$tmed" "$med")"
        cp "$tmp/t" "$tmp/torch-L${L}H${H}.json"
    fi
    echo "| ${L} x ${H}$([ "$m" = "$model" ] && echo ' (bundled)') | $mb | $med | $(jget p99_us <"$tmp/hot") | $(jget p99_over_median <"$tmp/hot") | $bound | $(ratio "$med" "$bound") | $cmed | $dbound | $(ratio "$cmed" "$dbound") | $tcol |" >>"$out"
done

# reduced-precision weights of the bundled model against the fp32 bound of the same run
{
echo
echo "### Reduced-precision weights (bundled model, \`melodynet convert --dtype\`)"
echo
echo "| weights | bytes a step | hot median µs | p99 µs | fp32 cache bound µs | step/fp32 bound (bf16 ≤ 0.6, int8 ≤ 0.35) |"
echo "|---|---|---|---|---|---|"
} >>"$out"
for dt in f32 bf16 int8; do
    if [ $dt = f32 ]; then m=$model; else m="$tmp/$dt.mnet"; $cli convert "$model" -o "$m" --dtype $dt >/dev/null; fi
    $cli bench -m "$m" --steps $steps --json >"$tmp/q"
    echo "| $dt | $(jget stored_bytes <"$tmp/q") | $(jget median_us <"$tmp/q") | $(jget p99_us <"$tmp/q") | $(jget bound_us <"$tmp/q") | $(jget median_over_bound <"$tmp/q") |" >>"$out"
done

if [ $torch -eq 1 ]; then
    {
    echo
    echo "Every PyTorch variant of the step, median µs (the fastest is the one compared above):"
    echo
    echo "| model | lstm-eager | lstm-script | addmv-eager | addmv-script |"
    echo "|---|---|---|---|---|"
    for f in "$tmp"/torch-*.json; do
        /usr/bin/python3 - "$f" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
v = r["variants"]
name = os.path.basename(sys.argv[1])[6:-5].replace("L", "").replace("H", " x ")
cell = lambda k: ("%.2f" % v[k]["median_us"]) if "median_us" in v.get(k, {}) else "failed"
print("| %s | %s |" % (name, " | ".join(cell(k) for k in ("lstm-eager", "lstm-script", "addmv-eager", "addmv-script"))))
PY
    done
    } >>"$out"
fi

# training throughput and peak memory, at one and two threads
{
echo
echo "### Training (2 x 256, batch 32 x 64)"
echo
echo "| threads | melodynet tokens/s | PyTorch tokens/s | melodynet/PyTorch (≥ 1.5 at 1, ≥ 1.3 at 2) | melodynet peak RSS MiB | PyTorch peak RSS MiB | RSS ratio (≤ 0.2) |"
echo "|---|---|---|---|---|---|---|"
} >>"$out"
for th in 1 2; do
    /usr/bin/time -f '%M' -o "$tmp/rss" $cli train "$DATA" -o "$tmp/m.mnet" --bench-steps $tsteps --threads $th >"$tmp/tr" 2>&1
    c_rss=$(awk '{printf "%.0f", $1/1024}' "$tmp/rss")
    n_dur=$(sed -n 's/.*durations=\([0-9]*\).*/\1/p' "$tmp/tr" | head -1)
    c_wall=$(sed -n 's/.* \([0-9]*\) tokens\/s.*/\1/p' "$tmp/tr" | tail -1)
    if [ $torch -eq 1 ]; then
        /usr/bin/time -f '%M' -o "$tmp/trss" /usr/bin/python3 tools/bench_train_torch.py --steps $tsteps --threads $th --durations "$n_dur" >"$tmp/tt"
        t_rss=$(awk '{printf "%.0f", $1/1024}' "$tmp/trss")
        t_wall=$(sed -n 's/.* \([0-9]*\) tokens\/s.*/\1/p' "$tmp/tt")
        echo "| $th | $c_wall | $t_wall | $(ratio "$c_wall" "$t_wall") | $c_rss | $t_rss | $(ratio "$c_rss" "$t_rss") |" >>"$out"
    else
        echo "| $th | $c_wall | skipped | | $c_rss | | |" >>"$out"
    fi
done

cat "$out"
if [ $write -eq 1 ] && [ "$steps" -ne 500 ]; then
    /usr/bin/python3 - "$out" BENCHMARKS.md <<'PY'
import sys
new = open(sys.argv[1]).read()
path = sys.argv[2]
text = open(path).read()
b, e = "<!-- bench:begin -->", "<!-- bench:end -->"
block = b + "\n\n## Latest `make bench` run\n\n" + new + "\n" + e
if b in text and e in text:
    text = text[:text.index(b)] + block + text[text.index(e) + len(e):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
print("bench: wrote the tables to " + path)
PY
fi
