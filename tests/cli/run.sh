#!/bin/sh
# tests/cli/run.sh - tests of the `melodynet` command as a user runs it: determinism of
# generate, MIDI output checked by an independent reader (mido), one clear error line for each
# hostile model and MIDI file, usage errors, eval's JSON keys, fine-tuning with train --init and
# the too-short-run warning. MN_CLI names the binary (default bin/melodynet). Prints one line
# per check; exits non-zero if any failed.
cli=${MN_CLI:-bin/melodynet}
model=tests/fixtures/ref/small.mnet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_error STATUS DESCRIPTION CMD...: exit status STATUS, exactly one line on stderr that
# starts with "melodynet", nothing on stdout, no sanitizer report
expect_error() {
    want=$1; what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    st=$?
    lines=$(wc -l <"$tmp/err")
    if [ "$st" -ne "$want" ]; then bad "$what: exit $st, expected $want"; cat "$tmp/err"; return; fi
    if [ "$lines" -ne 1 ] || ! grep -q '^melodynet' "$tmp/err"; then
        bad "$what: expected one error line, got:"; cat "$tmp/err"; return
    fi
    if [ -s "$tmp/out" ]; then bad "$what: stdout not empty"; return; fi
    ok
}

# generate: 64 events, deterministic per seed, different across seeds
"$cli" generate -m $model -n 64 --random-seed 7 >"$tmp/a" 2>"$tmp/a.err" || bad "generate failed"
"$cli" generate -m $model -n 64 --random-seed 7 >"$tmp/b" 2>/dev/null
"$cli" generate -m $model -n 64 --random-seed 8 >"$tmp/c" 2>/dev/null
[ "$(wc -l <"$tmp/a")" -eq 64 ] && ok || bad "generate -n 64 printed $(wc -l <"$tmp/a") lines"
cmp -s "$tmp/a" "$tmp/b" && ok || bad "same seed gave different events"
cmp -s "$tmp/a" "$tmp/c" && bad "different seeds gave the same events" || ok
grep -Evq '^([0-9]+ [0-9.e+-]+ [0-9]+|rest [0-9.e+-]+ 0)$' "$tmp/a" && bad "malformed event line" || ok
[ -s "$tmp/a.err" ] && bad "stderr not empty with --random-seed: $(cat "$tmp/a.err")" || ok

# -o writes the printed events; mido reads back the same notes (480 ticks per quarter)
"$cli" generate -m $model -n 64 --random-seed 7 -o "$tmp/x.mid" >"$tmp/d" 2>/dev/null || bad "generate -o failed"
cmp -s "$tmp/a" "$tmp/d" && ok || bad "-o changed the printed events"
awk '{ d = int($2 * 480 + 0.5); if ($1 != "rest") print $1, t, d, $3; t += d }' t=0 "$tmp/d" >"$tmp/expect"
if command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import mido' 2>/dev/null; then
    /usr/bin/python3 tests/mido_check.py "$tmp/x.mid" "$tmp/expect" >/dev/null && ok || bad "mido disagrees with the printed notes"
else
    bad "python3-mido missing: cannot check the MIDI output independently"
fi

# options shape the output
"$cli" generate -m $model -n 200 --random-seed 3 --range 60 72 --scale major --root D --no-rests >"$tmp/r" 2>/dev/null
awk '$1 == "rest" || $1 < 60 || $1 > 72 { bad = 1 }
     { pc = $1 % 12; if (!(pc == 2 || pc == 4 || pc == 6 || pc == 7 || pc == 9 || pc == 11 || pc == 1)) bad = 1 }
     END { exit bad }' "$tmp/r" && ok || bad "range/scale/no-rests not honoured"
"$cli" generate -m $model -n 4 --random-seed 1 --seed-notes "60 62:0.5 rest 64:2" >/dev/null 2>&1 && ok || bad "--seed-notes"
"$cli" generate -m $model -n 4 --random-seed 1 --json >"$tmp/j" 2>/dev/null
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["events"])==4' "$tmp/j" && ok || bad "--json output"

# a seed MIDI file primes the model; one that holds no notes says so and still generates
for f in tests/fixtures/midi/*.mid; do
    case $(basename "$f") in
    hostile_*) expect_error 1 "generate --seed-midi $f" "$cli" generate -m $model -n 4 --random-seed 1 --seed-midi "$f" ;;
    *)
        if "$cli" generate -m $model -n 4 --random-seed 1 --seed-midi "$f" >"$tmp/o" 2>"$tmp/e" && [ "$(wc -l <"$tmp/o")" -eq 4 ]; then ok
        else bad "generate --seed-midi $f: $(cat "$tmp/e")"; fi ;;
    esac
done
"$cli" generate -m $model -n 6 --random-seed 1 --seed-midi tests/fixtures/midi/no_notes.mid -o "$tmp/nn.mid" >"$tmp/o" 2>"$tmp/e"
if [ $? -eq 0 ] && [ "$(wc -l <"$tmp/o")" -eq 6 ] && grep -q "holds no notes" "$tmp/e"; then ok
else bad "generate --seed-midi with no notes: $(cat "$tmp/e")"; fi
/usr/bin/python3 -c 'import mido,sys; m=mido.MidiFile(sys.argv[1]); ts=[x for t in m.tracks for x in t if x.type=="time_signature"]; tp=[x for t in m.tracks for x in t if x.type=="set_tempo"]; sys.exit(not (ts[0].numerator==3 and tp[0].tempo==600000))' "$tmp/nn.mid" && ok || bad "the seed file's metre and tempo are not kept"
expect_error 1 "generate --seed-midi missing" "$cli" generate -m $model --seed-midi "$tmp/none.mid"

# every hostile model file: one clear error line, exit 1, for info and generate
for f in tests/fixtures/hostile/*.mnet; do
    case $(basename "$f") in
    ok_*) "$cli" info "$f" >/dev/null 2>&1 && ok || bad "info $f should load" ;;
    *)
        expect_error 1 "info $f" "$cli" info "$f"
        expect_error 1 "generate -m $f" "$cli" generate -m "$f" -n 4 --random-seed 1 ;;
    esac
done
expect_error 1 "info missing file" "$cli" info "$tmp/none.mnet"

# usage errors: exit 2 with one line
expect_error 2 "unknown verb" "$cli" frobnicate
expect_error 2 "bad -n" "$cli" generate -m $model -n many
expect_error 2 "bad temperature" "$cli" generate -m $model -t -1
expect_error 2 "bad range" "$cli" generate -m $model --range 80 60
expect_error 2 "unknown scale" "$cli" generate -m $model --scale nonesuch
expect_error 2 "bad seed note" "$cli" generate -m $model --seed-notes "60 200"
expect_error 2 "unknown option" "$cli" generate --frobnicate
expect_error 2 "eval without files" "$cli" eval -m $model
for v in info generate eval train roll report bench; do
    "$cli" $v --help >/dev/null 2>&1 && ok || bad "$v --help"
done

# eval: JSON keys, baseline on the same events, skipped files listed with the reason
"$cli" eval -m $model --json --baseline tests/fixtures/midi tests/fixtures/midi >"$tmp/ev" 2>/dev/null
/usr/bin/python3 - "$tmp/ev" <<'PY' && ok || bad "eval --json keys"
import json, sys
d = json.load(open(sys.argv[1]))
keys = ["files", "skipped", "events", "bits_pitch", "bits_duration", "bits_total", "accuracy_pitch"]
assert all(k in d for k in keys), d
assert all(k in d["baseline"] for k in keys)
assert all(k in d["with_motif"] for k in keys) and d["with_motif"]["events"] == d["events"]
assert d["baseline"]["events"] == d["events"] > 0
assert abs(d["bits_total"] - d["bits_pitch"] - d["bits_duration"]) < 1e-5
assert any(s["file"].endswith("hostile_bad_magic.mid") and s["reason"] for s in d["skipped"])
PY

# train --init: a tiny parent trained on the fixtures is fine-tuned on two of them, with the
# third as valid data; the child says what schedule it chose, records its parent (path, SHA-256,
# corpora, license) and scores no worse than the parent on the valid tune
F=tests/fixtures/midi
"$cli" train $F/jig_68.mid $F/reel_pickup.mid $F/waltz_change.mid --hidden 16 --embed 8 --batch 4 \
    --seq 16 --epochs 20 --warmup 10 --license "parent terms" -o "$tmp/parent.mnet" >/dev/null 2>"$tmp/e" \
    || bad "train the parent: $(tail -1 "$tmp/e")"
"$cli" train $F/jig_68.mid $F/reel_pickup.mid --valid $F/waltz_change.mid --init "$tmp/parent.mnet" \
    --batch 4 --seq 16 -o "$tmp/child.mnet" >"$tmp/o" 2>"$tmp/e" || bad "fine-tune: $(tail -1 "$tmp/e")"
grep -q "^melodynet train: fine-tuning: lr 0.0001, decay 0.8 per epoch, warm-up [0-9]* steps*, [0-9]* epochs, patience 2, valid on --valid; for 2 tunes of [0-9]* steps per epoch" "$tmp/e" \
    && ok || bad "no line says which fine-tuning schedule was chosen: $(grep fine-tuning "$tmp/e")"
grep -q "^epoch 0 (the parent): valid" "$tmp/e" && ok || bad "the parent is not scored before fine-tuning"
"$cli" info "$tmp/child.mnet" >"$tmp/info" 2>&1
sha=$(sha256sum "$tmp/parent.mnet" | cut -d' ' -f1)
grep -qx "parent_model $tmp/parent.mnet" "$tmp/info" && ok || bad "info: no parent_model line"
grep -qx "parent_sha256 $sha" "$tmp/info" && ok || bad "info: parent_sha256 is not the parent's SHA-256"
grep -qx "parent_train_data $F/jig_68.mid $F/reel_pickup.mid $F/waltz_change.mid" "$tmp/info" \
    && ok || bad "info: parent_train_data is not the parent's corpus"
grep -qx "train_data   $F/jig_68.mid $F/reel_pickup.mid" "$tmp/info" && ok || bad "info: train_data is not the new corpus"
grep -qx "parent_license parent terms" "$tmp/info" && ok || bad "info: no parent_license"
"$cli" eval -m "$tmp/parent.mnet" --json $F/waltz_change.mid >"$tmp/ep" 2>/dev/null
"$cli" eval -m "$tmp/child.mnet" --json $F/waltz_change.mid >"$tmp/ec" 2>/dev/null
/usr/bin/python3 - "$tmp/ep" "$tmp/ec" <<'PY' && ok || bad "the fine-tuned model scores worse than its parent on the valid tune"
import json, sys
p, c = (json.load(open(f)) for f in sys.argv[1:3])
print("    parent %.4f, fine-tuned %.4f bits/event on the valid tune" % (p["bits_total"], c["bits_total"]))
assert c["events"] == p["events"] > 0 and c["bits_total"] <= p["bits_total"] + 1e-4
PY
# a grandchild keeps the whole lineage of corpora
"$cli" train $F/waltz_change.mid $F/jig_68.mid --init "$tmp/child.mnet" --batch 4 --seq 16 --epochs 1 \
    -o "$tmp/grandchild.mnet" >/dev/null 2>"$tmp/e" || bad "fine-tune a fine-tuned model: $(tail -1 "$tmp/e")"
"$cli" info "$tmp/grandchild.mnet" 2>&1 | grep -qx "parent_train_data $F/jig_68.mid $F/reel_pickup.mid $F/waltz_change.mid $F/jig_68.mid $F/reel_pickup.mid" \
    && ok || bad "grandchild: parent_train_data lacks the grandparent's corpus"
# no --valid: 10% of the tunes, at least one, held out by --seed, named in valid_data
"$cli" train $F/jig_68.mid $F/reel_pickup.mid $F/waltz_change.mid --init "$tmp/parent.mnet" --batch 4 \
    --seq 16 --epochs 2 --seed 3 -o "$tmp/split.mnet" >/dev/null 2>"$tmp/e" || bad "fine-tune with a split: $(tail -1 "$tmp/e")"
grep -q "valid on 1 of the 3 tunes held out (seed 3).*given: --epochs" "$tmp/e" && ok || bad "the held-out split is not reported"
"$cli" info "$tmp/split.mnet" 2>&1 | grep -q "^valid_data   held out (seed 3): $F/[a-z_0-9]*\.mid$" && ok || bad "valid_data does not name the held-out tune"
"$cli" train $F/jig_68.mid $F/reel_pickup.mid $F/waltz_change.mid --init "$tmp/parent.mnet" --batch 4 \
    --seq 16 --epochs 2 --seed 3 -o "$tmp/split2.mnet" >/dev/null 2>&1
[ "$("$cli" info "$tmp/split.mnet" | grep ^valid_data)" = "$("$cli" info "$tmp/split2.mnet" | grep ^valid_data)" ] \
    && ok || bad "the same --seed held out other tunes"
# architecture options that disagree with the parent are refused; agreeing ones are fine
expect_error 2 "--init with another --hidden" "$cli" train $F --init "$tmp/parent.mnet" --hidden 32 -o "$tmp/x.mnet"
expect_error 2 "--init with another --max-durations" "$cli" train $F --init "$tmp/parent.mnet" --max-durations 4 -o "$tmp/x.mnet"
"$cli" train $F/jig_68.mid --init "$tmp/parent.mnet" --hidden 16 --layers 2 --bench-steps 1 >/dev/null 2>&1 \
    && ok || bad "--init with the parent's own --hidden refused"
expect_error 1 "--init missing model" "$cli" train $F --init "$tmp/none.mnet" -o "$tmp/x.mnet"
if [ -f models/default.mnet ]; then
    "$cli" train $F/jig_68.mid --init default --bench-steps 1 >/dev/null 2>"$tmp/e" \
        && grep -q "L=2 H=256 .*durations=32" "$tmp/e" && ok || bad "--init default: $(tail -1 "$tmp/e")"
fi
# a run shorter than its warm-up says so; one that fits does not
"$cli" train $F/jig_68.mid --hidden 8 --embed 4 --epochs 2 -o "$tmp/short.mnet" >/dev/null 2>"$tmp/e"
grep -q "^melodynet train: warning: 2 steps (2 epochs of 1) end before the 200-step warm-up" "$tmp/e" \
    && ok || bad "no warning for a run shorter than its warm-up"
"$cli" train $F/jig_68.mid --hidden 8 --embed 4 --epochs 2 --warmup 2 -o "$tmp/short.mnet" >/dev/null 2>"$tmp/e"
grep -q "warm-up" "$tmp/e" && bad "warning for a run that fits its warm-up: $(grep warm-up "$tmp/e")" || ok

# the bundled model loads and generates
if [ -f models/default.mnet ]; then
    "$cli" info >/dev/null 2>&1 && ok || bad "info on the bundled model"
    "$cli" generate -n 16 --random-seed 7 >"$tmp/g" 2>/dev/null && [ "$(wc -l <"$tmp/g")" -eq 16 ] && ok || bad "generate with the bundled model"
fi

echo "cli tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
