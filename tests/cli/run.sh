#!/bin/sh
# tests/cli/run.sh - tests of the `melodynet` command as a user runs it: determinism of
# generate, MIDI output checked by an independent reader (mido), one clear error line for each
# hostile model and MIDI file, usage errors, eval's JSON keys. MN_CLI names the binary
# (default bin/melodynet). Prints one line per check; exits non-zero if any failed.
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
for v in info generate eval train prep roll report bench; do
    "$cli" $v --help >/dev/null 2>&1 && ok || bad "$v --help"
done

# prep: usage errors, a model that cannot be read, data with no usable file; nothing written
expect_error 2 "prep without -o" "$cli" prep tests/fixtures/midi/jig_68.mid
expect_error 2 "prep without data" "$cli" prep -o "$tmp/t.bin"
expect_error 2 "prep bad --max-durations" "$cli" prep tests/fixtures/midi/jig_68.mid -o "$tmp/t.bin" --max-durations 0
expect_error 1 "prep --model hostile" "$cli" prep tests/fixtures/midi/jig_68.mid -o "$tmp/t.bin" --model tests/fixtures/hostile/bad_json.mnet
"$cli" prep tests/fixtures/midi/hostile_empty.mid -o "$tmp/t.bin" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "no usable MIDI file" "$tmp/err" && [ ! -e "$tmp/t.bin" ] && ok || bad "prep with no usable file: $(cat "$tmp/err")"
"$cli" prep tests/fixtures/midi/jig_68.mid tests/fixtures/midi/waltz_change.mid --max-durations 5 -o "$tmp/t.bin" >"$tmp/out" 2>/dev/null
grep -q "2 training tunes .*, 5 durations" "$tmp/out" && head -c 8 "$tmp/t.bin" | grep -q MNTOKENS && ok || bad "prep: $(cat "$tmp/out")"

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

# the bundled model loads and generates
if [ -f models/default.mnet ]; then
    "$cli" info >/dev/null 2>&1 && ok || bad "info on the bundled model"
    "$cli" generate -n 16 --random-seed 7 >"$tmp/g" 2>/dev/null && [ "$(wc -l <"$tmp/g")" -eq 16 ] && ok || bad "generate with the bundled model"
fi

echo "cli tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
