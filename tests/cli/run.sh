#!/bin/sh
# tests/cli/run.sh - tests of the `melodynet` command as a user runs it: determinism of
# generate, MIDI output checked by an independent reader (mido), one clear error line for each
# hostile model and MIDI file, usage errors, eval's JSON keys, fine-tuning with train --init and
# the too-short-run warning, and the settings taken and refused as [melodynet] takes them.
# MN_CLI names the binary (default bin/melodynet). Prints one line per check; exits non-zero if
# any failed.
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
# a long seed file primes with its last 256 events, as Pd's `read` does: 300 notes and the
# same file without its first 44 notes (their time kept as leading silence) give the same melody
"$cli" generate -m $model -n 300 --random-seed 5 --no-rests -o "$tmp/long.mid" >/dev/null 2>&1
/usr/bin/python3 - "$tmp/long.mid" "$tmp/tail.mid" <<'PY'
import sys, mido
mf = mido.MidiFile(sys.argv[1])
out = mido.MidiFile(type=mf.type, ticks_per_beat=mf.ticks_per_beat)
for track in mf.tracks:
    t, ons, keep, pending = 0, 0, mido.MidiTrack(), 0
    for msg in track:
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            ons += 1
        if msg.type in ("note_on", "note_off") and ons <= 44:
            pending += msg.time
            continue
        keep.append(msg.copy(time=msg.time + pending))
        pending = 0
    out.tracks.append(keep)
out.save(sys.argv[2])
PY
"$cli" generate -m $model -n 16 --random-seed 9 --seed-midi "$tmp/long.mid" >"$tmp/l1" 2>"$tmp/l1.err" || bad "generate --seed-midi long.mid"
"$cli" generate -m $model -n 16 --random-seed 9 --seed-midi "$tmp/tail.mid" >"$tmp/l2" 2>"$tmp/l2.err" || bad "generate --seed-midi tail.mid"
cmp -s "$tmp/l1" "$tmp/l2" && ok || bad "a 300-event seed file did not prime with its last 256 events"
grep -q "holds 300 events; priming with its last 256" "$tmp/l1.err" && ok || bad "no note on the trimmed seed: $(cat "$tmp/l1.err")"
[ -s "$tmp/l2.err" ] && bad "a 256-event seed file printed: $(cat "$tmp/l2.err")" || ok
"$cli" generate --help | grep -q "its last 256 events" && ok || bad "generate --help does not give the seed rule"

expect_error 1 "generate --seed-midi missing" "$cli" generate -m $model --seed-midi "$tmp/none.mid"

# a model in use cannot be pulled away: truncating and rewriting its file while generate
# plays it changes nothing (the mapped file of old ended in SIGBUS)
cp models/default.mnet "$tmp/pull.mnet"
"$cli" generate -m models/default.mnet -n 20000 --random-seed 3 >"$tmp/pull.want" 2>/dev/null
"$cli" generate -m "$tmp/pull.mnet" -n 20000 --random-seed 3 >"$tmp/pull.got" 2>"$tmp/pull.err" &
pid=$!
i=0
while [ $i -lt 600 ] && [ ! -s "$tmp/pull.got" ]; do sleep 0.05; i=$((i + 1)); done
kill -0 $pid 2>/dev/null || echo "note: generate ended before its model file was changed"
truncate -s 100 "$tmp/pull.mnet"
head -c 300000 /dev/urandom >>"$tmp/pull.mnet"
wait $pid; st=$?
[ $st -eq 0 ] && cmp -s "$tmp/pull.want" "$tmp/pull.got" && ok || bad "generate with its model file truncated: exit $st, $(wc -l <"$tmp/pull.got") lines: $(cat "$tmp/pull.err")"

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
# a file that cannot be read gives the same words whichever command meets it; a pipe is
# refused at once (nothing writes to it: reading it would wait for ever)
mkdir "$tmp/dir.mnet" "$tmp/dir.mid"
mkfifo "$tmp/pipe.mnet" "$tmp/pipe.mid"
expect_line() {
    want=$1; shift
    timeout 10 "$@" >/dev/null 2>"$tmp/err"
    [ "$(cat "$tmp/err")" = "$want" ] && ok || bad "$*: expected '$want', got: $(cat "$tmp/err")"
}
expect_line "melodynet info: $tmp/none.mnet: cannot open: No such file or directory" \
    "$cli" info "$tmp/none.mnet"
expect_line "melodynet info: $tmp/dir.mnet: cannot read: it is a folder" "$cli" info "$tmp/dir.mnet"
expect_line "melodynet info: $tmp/pipe.mnet: cannot read: not a regular file" \
    "$cli" info "$tmp/pipe.mnet"
expect_line "melodynet generate: $tmp/dir.mid: cannot read: it is a folder" \
    "$cli" generate -m $model -n 1 --seed-midi "$tmp/dir.mid"
expect_line "melodynet generate: $tmp/pipe.mid: cannot read: not a regular file" \
    "$cli" generate -m $model -n 1 --seed-midi "$tmp/pipe.mid"
expect_line "melodynet roll: $tmp/pipe.mid: cannot read: not a regular file" \
    "$cli" roll "$tmp/pipe.mid" -o "$tmp/roll.svg"
# text from a model file cannot drive the terminal: controls, C1 and bidi overrides escaped
"$cli" info tests/fixtures/hostile/ok_escapes.mnet >"$tmp/esc" 2>&1
if LC_ALL=C grep -q "$(printf '[\033\007\r]')" "$tmp/esc" || LC_ALL=C grep -q "$(printf '\302\233')" "$tmp/esc"; then
    bad "info printed raw control characters"
else ok; fi
grep -qF 'name         \x1b]0;owned\x07\x1b[31mred\x1b[0m\u009b2J\r\u202e' "$tmp/esc" && ok || bad "info escapes: $(grep name "$tmp/esc")"

# usage errors: exit 2 with one line
expect_error 2 "unknown verb" "$cli" frobnicate
expect_error 2 "bad -n" "$cli" generate -m $model -n many
expect_error 2 "bad temperature" "$cli" generate -m $model -t -1
expect_error 2 "bad range" "$cli" generate -m $model --range 80 60
expect_error 2 "unknown scale" "$cli" generate -m $model --scale nonesuch
expect_error 2 "bad seed note" "$cli" generate -m $model --seed-notes "60 200"
expect_error 2 "unknown option" "$cli" generate --frobnicate
expect_error 2 "eval without files" "$cli" eval -m $model
for v in info generate eval train roll report bench fit-motif copy-index similar; do
    "$cli" $v --help >/dev/null 2>&1 && ok || bad "$v --help"
done

# a folder that links to itself twice is walked once: one file scored, in bounded time
mkdir "$tmp/loop" && cp tests/fixtures/midi/jig_68.mid "$tmp/loop/" && ln -s . "$tmp/loop/l1" && ln -s . "$tmp/loop/l2"
timeout 60 "$cli" eval -m $model "$tmp/loop" >"$tmp/lo" 2>&1
grep -q "files     1 scored, 0 skipped" "$tmp/lo" && ok || bad "eval over a folder with link loops: $(head -3 "$tmp/lo")"

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
    # unprimed melodies at temperature 0.8 neither get stuck nor loop, start with a pickup
    # about as often as the folk tunes (62%) and are as busy (4.0 notes per bar)
    mkdir -p "$tmp/u"
    for s in $(seq 1 40); do
        "$cli" generate -n 64 -t 0.8 --random-seed $s --json >"$tmp/u/$s.json" 2>/dev/null || bad "generate -t 0.8 seed $s"
    done
    /usr/bin/python3 tests/reference/melody_figures.py --json "$tmp"/u/*.json >"$tmp/uf" || bad "melody_figures.py"
    /usr/bin/python3 - "$tmp/uf" "$tmp"/u/*.json <<'PY' && ok || bad "unprimed melodies at T 0.8: $(cat "$tmp/uf")"
import json, sys
f = json.load(open(sys.argv[1]))
starts = [json.load(open(p))['events'][0]['position_beats'] for p in sys.argv[2:]]
pickup = sum(s != 0 for s in starts) / len(starts)
assert f['stuck_runs'] == 0 and f['loops'] == 0, f
assert 0.4 <= pickup <= 0.8, pickup
assert 3.4 <= f['notes_per_bar'] <= 4.6, f
PY
    # a pickup stays a pickup in the MIDI file: the first note starts at its place in the bar
    for s in 1 2 3 4 5 6; do
        "$cli" generate -n 4 --random-seed $s --json -o "$tmp/p$s.mid" >"$tmp/p$s.json" 2>/dev/null
        /usr/bin/python3 - "$tmp/p$s.json" "$tmp/p$s.mid" <<'PY' || bad "pickup of seed $s not kept in the MIDI file"
import json, sys, mido
first = json.load(open(sys.argv[1]))['events'][0]
mid = mido.MidiFile(sys.argv[2])
t = 0
for msg in mid.tracks[1]:
    t += msg.time
    if msg.type == 'note_on' and msg.velocity > 0:
        break
assert t == round(first['position_beats'] * mid.ticks_per_beat), (t, first)
PY
    done
    ok
fi

# train: a tiny model on the three tunes of the fixtures
mkdir "$tmp/tunes" && cp tests/fixtures/midi/reel_pickup.mid tests/fixtures/midi/jig_68.mid tests/fixtures/midi/waltz_change.mid "$tmp/tunes/"
tiny="--layers 1 --hidden 8 --embed 4 --pos 8 --batch 2 --seq 8 --threads 1"
# outputs are checked before any work: a folder as MODEL fails at once and leaves the log alone
mkdir -p "$tmp/tr/m.mnet" && printf 'old log\n' >"$tmp/tr/m.mnet.csv"
"$cli" train "$tmp/tunes" -o "$tmp/tr/m.mnet" $tiny --epochs 1 >"$tmp/o" 2>"$tmp/e"; st=$?
[ $st -eq 1 ] && grep -q "m.mnet: cannot write: it is a folder" "$tmp/e" && ! grep -q "training data\|epoch" "$tmp/e" && ok \
    || bad "train -o FOLDER: exit $st: $(cat "$tmp/e")"
[ "$(cat "$tmp/tr/m.mnet.csv")" = "old log" ] && ok || bad "a failed train run changed the old log"
expect_error 1 "train --checkpoint in a missing folder" "$cli" train "$tmp/tunes" -o "$tmp/tr/x.mnet" $tiny --checkpoint "$tmp/none/x.ckpt"
# a finished run resumed writes its model when it is missing, and says it is complete
"$cli" train "$tmp/tunes" -o "$tmp/tr/a.mnet" $tiny --epochs 1 >/dev/null 2>"$tmp/e" || bad "train: $(cat "$tmp/e")"
[ "$(wc -l <"$tmp/tr/a.mnet.csv")" -ge 2 ] && head -1 "$tmp/tr/a.mnet.csv" | grep -q '^epoch,step' && ok || bad "train wrote no CSV log"
rm -f "$tmp/tr/a.mnet"
"$cli" train "$tmp/tunes" -o "$tmp/tr/a.mnet" $tiny --epochs 1 --resume "$tmp/tr/a.mnet.ckpt" >/dev/null 2>"$tmp/e"; st=$?
[ $st -eq 0 ] && [ -s "$tmp/tr/a.mnet" ] && grep -q "has all 1 epochs already; wrote" "$tmp/e" && ok \
    || bad "resuming a finished run: exit $st, model $(ls "$tmp/tr/a.mnet" 2>&1): $(cat "$tmp/e")"
"$cli" info "$tmp/tr/a.mnet" >/dev/null 2>&1 && ok || bad "the model written on resume does not load"
"$cli" train "$tmp/tunes" -o "$tmp/tr/a.mnet" $tiny --epochs 1 --resume "$tmp/tr/a.mnet.ckpt" >/dev/null 2>"$tmp/e" \
    && grep -q "is its model" "$tmp/e" && ok || bad "resuming a finished run with its model: $(cat "$tmp/e")"
# SIGTERM saves a checkpoint as Ctrl-C does, and the run resumes from it
"$cli" train "$tmp/tunes" -o "$tmp/tr/t.mnet" $tiny --epochs 100000 --patience 0 >/dev/null 2>"$tmp/te" &
pid=$!
i=0
while [ $i -lt 600 ] && ! grep -qs "^epoch 2/" "$tmp/te"; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid; st=$?
[ $st -eq 1 ] && grep -q "terminated at step [0-9]*; checkpoint saved to $tmp/tr/t.mnet.ckpt" "$tmp/te" && ok \
    || bad "train after SIGTERM: exit $st: $(tail -2 "$tmp/te")"
rows=$(wc -l <"$tmp/tr/t.mnet.csv")
"$cli" train "$tmp/tunes" -o "$tmp/tr/t.mnet" $tiny --epochs 1 --resume "$tmp/tr/t.mnet.ckpt" >/dev/null 2>"$tmp/e" \
    && grep -q "is its model" "$tmp/e" && [ "$(wc -l <"$tmp/tr/t.mnet.csv")" -eq "$rows" ] && ok \
    || bad "resume after SIGTERM: $(cat "$tmp/e")"
# Ctrl-C (SIGINT) in the middle of an epoch saves a checkpoint; the run resumed from it ends
# with the figures of the same run never interrupted: every epoch's valid figures, the best
# model
mkdir -p "$tmp/ir" && cp "$tmp"/tunes/*.mid "$tmp/ir/"
# about 60 steps an epoch: the signal comes soon after epoch 2's first tenth, well inside it
irun="--layers 2 --hidden 256 --embed 16 --pos 8 --batch 1 --seq 8 --threads 1 --epochs 3 --patience 0 --valid $F/jig_68.mid"
"$cli" train "$tmp/ir" -o "$tmp/ir/ref.mnet" $irun >"$tmp/ir/ref.out" 2>"$tmp/ir/ref.err" \
    || bad "uninterrupted train: $(tail -2 "$tmp/ir/ref.err")"
"$cli" train "$tmp/ir" -o "$tmp/ir/int.mnet" $irun >/dev/null 2>"$tmp/ir/int.err" &
pid=$!
i=0
while [ $i -lt 1200 ] && ! grep -q "^epoch 2/3 " "$tmp/ir/int.err" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid; st=$?
[ $st -eq 1 ] && grep -q "^melodynet train: interrupted at step [0-9]*; checkpoint saved to $tmp/ir/int.mnet.ckpt (continue with --resume $tmp/ir/int.mnet.ckpt)" "$tmp/ir/int.err" \
    && ok || bad "train after SIGINT: exit $st: $(tail -2 "$tmp/ir/int.err")"
"$cli" train "$tmp/ir" -o "$tmp/ir/int.mnet" $irun --resume "$tmp/ir/int.mnet.ckpt" >"$tmp/ir/int.out" 2>"$tmp/ir/res.err" \
    || bad "resume after SIGINT: $(tail -2 "$tmp/ir/res.err")"
grep -q "^melodynet train: resuming $tmp/ir/int.mnet.ckpt with its settings" "$tmp/ir/res.err" && ok || bad "resume: no resuming line"
[ "$(sed "s|$tmp/ir/int.mnet|M|" "$tmp/ir/int.out")" = "$(sed "s|$tmp/ir/ref.mnet|M|" "$tmp/ir/ref.out")" ] && ok \
    || bad "interrupted and resumed run ends otherwise: $(cat "$tmp/ir/int.out") against $(cat "$tmp/ir/ref.out")"
# the epochs' rows of the logs (step and valid figures) are the same
erows() { awk -F, 'NR > 1 && $6 != "" { print $1, $2, $4, $5, $6 }' "$1"; }
[ "$(erows "$tmp/ir/int.mnet.csv")" = "$(erows "$tmp/ir/ref.mnet.csv")" ] && [ "$(erows "$tmp/ir/ref.mnet.csv" | wc -l)" -eq 3 ] && ok \
    || bad "the resumed run's epochs differ from the uninterrupted run's: $(erows "$tmp/ir/int.mnet.csv" | tr '\n' ';')"
"$cli" generate -m "$tmp/ir/int.mnet" -n 24 --random-seed 5 >"$tmp/ir/g1" 2>&1
"$cli" generate -m "$tmp/ir/ref.mnet" -n 24 --random-seed 5 >"$tmp/ir/g2" 2>&1
cmp -s "$tmp/ir/g1" "$tmp/ir/g2" && [ -s "$tmp/ir/g1" ] && ok || bad "the resumed run's model plays otherwise than the uninterrupted one's"
# a full disk is reported as such (needs root to mount a small tmpfs)
if [ "$(id -u)" -eq 0 ] && mkdir "$tmp/full" && mount -t tmpfs -o size=64k tmpfs "$tmp/full" 2>/dev/null; then
    dd if=/dev/zero of="$tmp/full/fill" bs=1k count=40 2>/dev/null
    "$cli" train "$tmp/tunes" -o "$tmp/full/m.mnet" --layers 1 --hidden 64 --embed 16 --batch 2 --seq 8 --epochs 1 >/dev/null 2>"$tmp/e"; st=$?
    [ $st -eq 1 ] && grep -q "write failed: No space left on device" "$tmp/e" && ok || bad "train on a full disk: exit $st: $(cat "$tmp/e")"
    ls -A "$tmp/full" | grep -q '^\.mn-' && bad "a temporary file was left on the full disk" || ok
    # a disk with no room even for the log: the CSV write error stops the run, with its cause
    rm -f "$tmp/full"/*; dd if=/dev/zero of="$tmp/full/fill" bs=1k count=64 2>/dev/null
    "$cli" train "$tmp/tunes" -o "$tmp/full/m.mnet" $tiny --epochs 1 >/dev/null 2>"$tmp/e"; st=$?
    [ $st -eq 1 ] && grep -q "m.mnet.csv: write failed: No space left on device" "$tmp/e" && ok || bad "CSV log on a full disk: exit $st: $(cat "$tmp/e")"
    umount "$tmp/full"
else
    echo "note: not root or no tmpfs: the full-disk check of train is skipped"
fi

# convert: bf16 and int8 copies load, say their type, keep the metadata, and score within a
# small distance of the f32 model on the same MIDI files
for dt in bf16 int8; do
    if "$cli" convert $model -o "$tmp/$dt.mnet" --dtype $dt >"$tmp/cv" 2>&1; then ok
    else bad "convert --dtype $dt failed: $(cat "$tmp/cv")"; continue; fi
    "$cli" info "$tmp/$dt.mnet" >"$tmp/info" 2>&1
    grep -q "^weights      $dt matrices" "$tmp/info" && ok || bad "info on a $dt model: $(grep weights "$tmp/info")"
    grep -q "^weights_dtype $dt" "$tmp/info" && ok || bad "convert did not record weights_dtype $dt"
    [ "$(stat -c %s "$tmp/$dt.mnet")" -lt "$(stat -c %s $model)" ] && ok || bad "$dt file not smaller"
    "$cli" eval -m "$tmp/$dt.mnet" --json tests/fixtures/midi >"$tmp/e.$dt" 2>/dev/null || bad "eval on $dt failed"
    "$cli" generate -m "$tmp/$dt.mnet" -n 16 --random-seed 3 >/dev/null 2>&1 && ok || bad "generate on $dt failed"
done
"$cli" eval -m $model --json tests/fixtures/midi >"$tmp/e.f32" 2>/dev/null
for dt in bf16 int8; do
    /usr/bin/python3 - "$tmp/e.f32" "$tmp/e.$dt" "$dt" <<'PY' && ok || bad "$dt scores too far from f32"
import json, sys
a, b = (json.loads(open(p).read()) for p in sys.argv[1:3])
d = abs(a["bits_total"] - b["bits_total"])
sys.exit(0 if d < (0.01 if sys.argv[3] == "bf16" else 0.05) else 1)
PY
done
expect_error 2 "convert with a bad dtype" "$cli" convert $model -o "$tmp/x.mnet" --dtype f16
expect_error 2 "convert without -o" "$cli" convert $model --dtype bf16
expect_error 1 "convert into a folder" "$cli" convert $model -o "$tmp" --dtype bf16

# fit-motif writes a copy of the model with fitted metadata and the same network
"$cli" fit-motif -m $model tests/fixtures/midi -o "$tmp/fit.mnet" >"$tmp/fo" 2>"$tmp/fe" && ok || bad "fit-motif: $(cat "$tmp/fe")"
"$cli" info "$tmp/fit.mnet" >"$tmp/fi" 2>&1
grep -q '^motif_params far=' "$tmp/fi" && grep -q '^start_metre ' "$tmp/fi" && ok || bad "fit-motif: no metadata in $(cat "$tmp/fi")"
"$cli" eval -m $model --no-motif tests/fixtures/midi 2>/dev/null | grep network >"$tmp/e1"
"$cli" eval -m "$tmp/fit.mnet" --no-motif tests/fixtures/midi 2>/dev/null | grep network >"$tmp/e2"
cmp -s "$tmp/e1" "$tmp/e2" && ok || bad "fit-motif changed the network: $(cat "$tmp/e1" "$tmp/e2")"
expect_error 2 "fit-motif without -o" "$cli" fit-motif -m $model tests/fixtures/midi

# copy guard: index the fixture tunes, generate under --max-copy 2 (after a primer taken from
# one of them), and check with similar and with the independent script; without an index,
# --max-copy and similar say so in one line
"$cli" copy-index -m $model tests/fixtures/midi -o "$tmp/g.mnet" >"$tmp/co" 2>/dev/null && [ -s "$tmp/g.mncopy" ] && ok || bad "copy-index: $(cat "$tmp/co")"
"$cli" similar -m "$tmp/g.mnet" tests/fixtures/midi/jig_68.mid >"$tmp/si" 2>&1
n_iv=$(sed -n 's/.*: \([0-9]*\) intervals, against.*/\1/p' "$tmp/si")
awk -v n="$n_iv" 'NR == 3 && $1 == n && $2 == 1 && $3 == 1 && $4 == "jig_68" { f = 1 } END { exit !f }' "$tmp/si" && ok || bad "similar does not find jig_68 in itself: $(cat "$tmp/si")"
mkdir -p "$tmp/gc"
for s in 1 2 3 4 5 6; do
    "$cli" generate -m "$tmp/g.mnet" -n 100 -t 0.5 --random-seed $s --max-copy 2 --seed-midi tests/fixtures/midi/reel_pickup.mid -o "$tmp/gc/$s.mid" >/dev/null 2>"$tmp/gc/$s.err" || bad "generate --max-copy 2: $(cat "$tmp/gc/$s.err")"
    "$cli" generate -m "$tmp/g.mnet" -n 100 -t 0.5 --random-seed $s --seed-midi tests/fixtures/midi/reel_pickup.mid -o "$tmp/gc/free$s.mid" >/dev/null 2>&1
done
"$cli" similar -m "$tmp/g.mnet" -n 1 --json "$tmp"/gc/[0-9].mid >"$tmp/sj" 2>&1 || bad "similar on generated melodies"
/usr/bin/python3 -c '
import json, sys
runs = [json.loads(l)["runs"] for l in open(sys.argv[1])]
assert len(runs) == 6 and all(not r or r[0]["length"] <= 2 for r in runs), runs' "$tmp/sj" && ok || bad "similar: a run longer than --max-copy 2: $(cat "$tmp/sj")"
/usr/bin/python3 tests/reference/melody_figures.py --train tests/fixtures/midi --max-copy 2 "$tmp"/gc/[0-9].mid >/dev/null 2>"$tmp/pe" && ok || bad "melody_figures.py: $(cat "$tmp/pe")"
/usr/bin/python3 tests/reference/melody_figures.py --train tests/fixtures/midi --max-copy 2 "$tmp"/gc/free*.mid >/dev/null 2>&1 && bad "without the guard no run beyond 2: the check cannot fail" || ok
"$cli" generate -m "$tmp/g.mnet" -n 8 --random-seed 1 --max-copy 1 --seed-notes "62 67" --range 71 71 --no-rests >"$tmp/nl" 2>"$tmp/nle"
grep -q "passes --max-copy 1; a rest instead" "$tmp/nle" && grep -q '^rest ' "$tmp/nl" && ok || bad "nothing legal is not reported: $(cat "$tmp/nle")"
# the Pd test's golden (tests/pd/test_novelty.pd: [melodynet] with novelty 2 after the primer
# 62 67 71 67 66, over an index of what the same object plays without it, primer included) has
# no run of 3 intervals that holds a generated one: checked over the primer's last 3 notes
# (2 intervals) and the notes played
/usr/bin/python3 - tests/pd/test_novelty.golden "$tmp/pdn.json" <<'PY'
import json, sys
ev = [{'pitch': p, 'duration_beats': 1} for p in (71, 67, 66)]
notes = [l.split() for l in open(sys.argv[1]) if l.startswith('note:')]
for f in notes[:60]:  # the 60 notes played under novelty 2 (then the patch turns it off)
    ev.append({'pitch': int(f[1]) if int(f[2]) > 0 else None, 'duration_beats': 1})
json.dump({'events': ev}, open(sys.argv[2], 'w'))
PY
/usr/bin/python3 tests/reference/melody_figures.py --train tests/fixtures/guard --max-copy 2 "$tmp/pdn.json" >/dev/null 2>&1 && ok || bad "Pd novelty 2 golden holds a run longer than 2"
/usr/bin/python3 tests/reference/melody_figures.py --train tests/fixtures/guard --max-copy 2 tests/fixtures/guard/pd_unguarded.mid >/dev/null 2>&1 && bad "the unguarded Pd melody passes: the check cannot fail" || ok
expect_error 1 "--max-copy without an index" "$cli" generate -m $model --max-copy 4
expect_error 1 "similar without an index" "$cli" similar -m $model tests/fixtures/midi/jig_68.mid
expect_error 2 "--max-copy out of range" "$cli" generate -m "$tmp/g.mnet" --max-copy 99

# one settings vocabulary: each case of tests/fixtures/settings/cases.txt is taken or refused
# by generate as by [melodynet] (the golden of tests/pd/test_settings, which tests/pd/run.sh
# checks against Pd), with the same words after the name each side calls the setting by
cases=tests/fixtures/settings/cases.txt
field() { printf '%s\n' "$line" | awk -F'|' -v i="$1" '{ f = $i; gsub(/^ +| +$/, "", f); print f }'; }
: >"$tmp/pd.want"
while IFS= read -r line; do
    case $line in '#'*|'') continue ;; esac
    pdname=$(field 2)
    args=$(field 3)
    cliname=$(field 4)
    words=$(field 5)
    eval "set -- $args"
    "$cli" generate -m $model -n 1 --random-seed 1 "$@" >"$tmp/o" 2>"$tmp/e"
    st=$?
    if [ "$words" = ok ]; then
        [ $st -eq 0 ] && [ ! -s "$tmp/e" ] && ok || bad "generate $args: exit $st, $(cat "$tmp/e"), expected it taken"
    else
        want="melodynet generate: ${cliname:+$cliname }$words"
        [ $st -eq 2 ] && [ "$(cat "$tmp/e")" = "$want" ] && ok || bad "generate $args: exit $st, '$(cat "$tmp/e")', expected '$want'"
        echo "error: melodynet: ${pdname:+$pdname }$words" >>"$tmp/pd.want"
    fi
done <"$cases"
grep '^error: melodynet: ' tests/pd/test_settings.golden >"$tmp/pd.got"
[ -s "$tmp/pd.want" ] && cmp -s "$tmp/pd.want" "$tmp/pd.got" && ok || { bad "Pd refuses other settings, or in other words, than the cases say:"; diff "$tmp/pd.want" "$tmp/pd.got" | head -10; }

echo "cli tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
