#!/bin/sh
# tests/torch/run.sh - the PyTorch trainer (train/torch) against the C code, when PyTorch is
# installed (else it says so and passes): a model trained by `melodynet train` loads in PyTorch
# and gives the C session's logits on the events `melodynet prep` writes, and a model trained
# by train.py loads in `melodynet info`/`generate` and gives PyTorch's logits (both within
# 1e-5); train.py started from the C trainer's initial weights takes its steps; the converter and loader refuse tensors they cannot map, naming them; the token
# reader refuses damaged files; a 2-process gloo run (torchrun) follows the 1-process loss
# curve with the same global batch.
#   MN_CLI       the melodynet binary (default bin/melodynet)
#   MN_HELPER    tests/torch/session_logits built (default build/rel/tests/torch/session_logits;
#                trainer_steps is taken from the same folder)
#   MN_PYTHON    the Python to use (default /usr/bin/python3)
cli=${MN_CLI:-bin/melodynet}
helper=${MN_HELPER:-build/rel/tests/torch/session_logits}
steps=$(dirname "$helper")/trainer_steps
py=${MN_PYTHON:-/usr/bin/python3}
if ! $py -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "torch tests: skipped: python3-torch not installed ($py cannot import torch and numpy)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if $py tests/torch/check.py "$@" >"$tmp/chk" 2>&1; then ok; else bad "check.py $1"; fi; cat "$tmp/chk"; }
train_py="$py train/torch/train.py"
fix=tests/fixtures/midi    # 3 tunes (6/8, a pickup bar, a metre change) and hostile files

# a tiny corpus: the fixture tunes and 4 copies of each under other names
mkdir -p "$tmp/corpus"
for k in 1 2 3 4 5; do
    for f in jig_68 reel_pickup waltz_change; do cp $fix/$f.mid "$tmp/corpus/${f}_$k.mid"; done
done

# C -> PyTorch: a model of `melodynet train`, scored on the fixture tunes by both
"$cli" train "$tmp/corpus" -o "$tmp/c.mnet" --layers 2 --hidden 16 --embed 8 --pos 24 \
    --batch 4 --seq 16 --epochs 2 --warmup 10 --lr 0.01 >/dev/null 2>"$tmp/err" \
    && ok || { bad "melodynet train"; cat "$tmp/err"; }
"$cli" prep $fix --model "$tmp/c.mnet" -o "$tmp/fix_c.bin" >/dev/null 2>"$tmp/err" \
    && ok || { bad "melodynet prep --model"; cat "$tmp/err"; }
"$helper" "$tmp/c.mnet" $fix >"$tmp/c_logits" 2>"$tmp/err" && ok || { bad "session_logits"; cat "$tmp/err"; }
check logits "$tmp/c.mnet" "$tmp/fix_c.bin" "$tmp/c_logits"

# PyTorch -> C: a model of train.py on prep's tokens, loaded by info and generate, same logits
"$cli" prep "$tmp/corpus" --valid $fix -o "$tmp/tok.bin" >"$tmp/out" 2>"$tmp/err" \
    && ok || { bad "melodynet prep"; cat "$tmp/err"; }
# as many validation tunes as eval reads from the fixtures (the unreadable ones are skipped)
n_valid=$("$cli" eval -m "$tmp/c.mnet" --json $fix 2>/dev/null | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["files"])')
grep -q "15 training tunes .* $n_valid validation tunes" "$tmp/out" && ok || bad "prep summary (expected $n_valid validation tunes): $(cat "$tmp/out")"
nice -n 10 $train_py "$tmp/tok.bin" -o "$tmp/t.mnet" --layers 2 --hidden 16 --embed 8 --pos 24 \
    --batch 4 --seq 16 --epochs 2 --warmup 10 --lr 0.01 --license CC0-1.0 --step-log "$tmp/t.csv" \
    >/dev/null 2>"$tmp/err" \
    && ok || { bad "train.py"; cat "$tmp/err"; }
"$cli" info "$tmp/t.mnet" --json >"$tmp/ti.json" 2>"$tmp/err" && ok || { bad "info on train.py's model"; cat "$tmp/err"; }
"$cli" info "$tmp/c.mnet" --json >"$tmp/ci.json" 2>/dev/null
$py - "$tmp/ci.json" "$tmp/ti.json" <<'PY' && ok || bad "train.py's metadata keys differ from melodynet train's"
import json, sys
c, t = (json.load(open(p))["metadata"] for p in sys.argv[1:])
# melodynet train without --valid writes 6 keys; the torch run had a valid set: 4 more
want = set(c) | {"valid_data", "valid_bits_pitch", "valid_bits_duration", "valid_bits_total"}
assert set(t) == want, (sorted(t), sorted(want))
assert t["epochs"] == "2" and t["license"] == "CC0-1.0" and t["train_data"].endswith("corpus")
assert t["train_command"].startswith("python3 train/torch/train.py")
PY
"$cli" generate -m "$tmp/t.mnet" -n 16 --random-seed 3 >"$tmp/g" 2>"$tmp/err" && [ "$(wc -l <"$tmp/g")" -eq 16 ] \
    && ok || { bad "generate with train.py's model"; cat "$tmp/err"; }
"$cli" prep $fix --model "$tmp/t.mnet" -o "$tmp/fix_t.bin" >/dev/null 2>&1
"$helper" "$tmp/t.mnet" $fix >"$tmp/t_logits" 2>"$tmp/err" && ok || { bad "session_logits"; cat "$tmp/err"; }
check logits "$tmp/t.mnet" "$tmp/fix_t.bin" "$tmp/t_logits"
# the valid figure train.py stored is what `melodynet eval` measures on the same tunes
"$cli" eval -m "$tmp/t.mnet" --no-motif --json $fix >"$tmp/ev.json" 2>/dev/null
$py - "$tmp/ti.json" "$tmp/ev.json" <<'PY' && ok || bad "train.py's valid_bits_total is not eval's figure"
import json, sys
m = json.load(open(sys.argv[1]))["metadata"]
e = json.load(open(sys.argv[2]))
assert abs(float(m["valid_bits_total"]) - e["bits_total"]) < 1e-3, (m["valid_bits_total"], e["bits_total"])
print(f"valid_bits_total: train.py {m['valid_bits_total']}, melodynet eval {e['bits_total']:.4f}")
PY

# step for step with the C trainer: from the weights mn_trainer_new drew (written by
# trainer_steps), with the same settings, train.py takes the same windows (the C shuffle) and
# gives the same loss at every step, through clipping, warm-up, weight decay and the decay of
# the rate at the epoch boundary (39 steps)
"$steps" "$tmp/ci.mnet" 60 "$tmp/corpus" >"$tmp/c_steps.csv" 2>"$tmp/err" && ok || { bad "trainer_steps"; cat "$tmp/err"; }
"$cli" prep "$tmp/corpus" --model "$tmp/ci.mnet" -o "$tmp/ci.bin" >/dev/null 2>&1
nice -n 10 $train_py "$tmp/ci.bin" -o "$tmp/pi.mnet" --init "$tmp/ci.mnet" --batch 4 --seq 16 \
    --lr 0.01 --warmup 5 --lr-decay 0.5 --weight-decay 0.1 --clip 0.5 --seed 3 --epochs 5 \
    --max-steps 60 --step-log "$tmp/p_steps.csv" >/dev/null 2>"$tmp/err" \
    && ok || { bad "train.py --init"; cat "$tmp/err"; }
check curves "$tmp/c_steps.csv" "$tmp/p_steps.csv"

# what cannot be mapped is refused, naming the tensor; damaged token files are refused
check refuse "$tmp/t.mnet" "$tmp"
check tokens "$tmp/tok.bin" "$tmp"

# 2 processes (gloo) against 1 with the same global batch: the same loss at every step.
# torchrun's --redirects/--tee 2 avoid its default of 0, which Debian's torch 1.13 cannot parse
# under Python 3.11 (the run itself is unaffected).
args="--layers 2 --hidden 16 --embed 8 --pos 24 --batch 4 --seq 16 --epochs 2 --warmup 10 --lr 0.01 --max-steps 40"
nice -n 10 $train_py "$tmp/tok.bin" -o "$tmp/one.mnet" $args --step-log "$tmp/one.csv" >/dev/null 2>"$tmp/err" \
    && ok || { bad "train.py, 1 process"; cat "$tmp/err"; }
nice -n 10 $py -m torch.distributed.run --standalone --nproc_per_node 2 --redirects 2 --tee 2 \
    --log_dir "$tmp/tlog" train/torch/train.py "$tmp/tok.bin" -o "$tmp/two.mnet" $args \
    --step-log "$tmp/two.csv" >"$tmp/out" 2>"$tmp/err" \
    && ok || { bad "torchrun --nproc_per_node 2"; cat "$tmp/err"; }
grep -q "2 processes of 2 streams" "$tmp/err" && ok || bad "the torchrun run did not use 2 processes"
check curves "$tmp/one.csv" "$tmp/two.csv"

# a run stopped after its first epoch and resumed from the checkpoint takes the same steps as
# one that ran through: model, optimizer, streams and carried state are all restored
args="--layers 2 --hidden 16 --embed 8 --pos 24 --batch 4 --seq 16 --warmup 10 --lr 0.01"
nice -n 10 $train_py "$tmp/tok.bin" -o "$tmp/r.mnet" $args --epochs 1 --step-log "$tmp/r1.csv" >/dev/null 2>"$tmp/err" \
    && ok || { bad "train.py --epochs 1"; cat "$tmp/err"; }
nice -n 10 $train_py "$tmp/tok.bin" -o "$tmp/r.mnet" $args --epochs 2 --resume "$tmp/r.mnet.ckpt" \
    --step-log "$tmp/r2.csv" >/dev/null 2>"$tmp/err" && ok || { bad "train.py --resume"; cat "$tmp/err"; }
grep -q "resuming" "$tmp/err" && ok || bad "train.py --resume did not say it resumed"
{ cat "$tmp/r1.csv"; tail -n +2 "$tmp/r2.csv"; } >"$tmp/r.csv"
head -n "$(wc -l <"$tmp/r.csv")" "$tmp/t.csv" >"$tmp/t_head.csv"
check curves "$tmp/t_head.csv" "$tmp/r.csv"

echo "torch tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
