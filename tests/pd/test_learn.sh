#!/bin/sh
# test_learn.sh - run by run.sh in place of a plain batch run of test_learn.pd: [melodynet]'s
# learn and write-model on a tiny folder of the MIDI fixtures (48 tunes and a damaged file,
# which is skipped). Object A learns for 2 epochs while it plays, then plays the learned model
# with the same seed (other notes than before) and writes it; B's run is ended by `learn stop`
# at its first progress report and keeps the best so far; an object deleted while it learns
# does not hold Pd up; C's bad messages are refused. The two runs' messages interleave as the
# threads go, so the output compared with the golden file is a summary of each object's:
# its messages in order, with the progress reports checked (epoch order, fractions in (0, 1),
# figures numbers) and summed up in one line (how many come depends on the threads' timing).
# PD_PATH is the folder of the externals (default the current one). Pd runs without real-time
# priority (-nrt): under a sanitizer on a busy machine, the exit waits seconds for a deleted
# object's learn to stop, and the watchdog of a real-time Pd would report that on the console.
set -u
pd=${PD:-pd}
dir=$(mktemp -d)
mkdir "$dir/tunes"
for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
    for f in jig_68 reel_pickup waltz_change running_status_meta; do
        cp "tests/fixtures/midi/$f.mid" "$dir/tunes/${f}_$k.mid"
    done
done
cp tests/fixtures/midi/hostile_truncated_meta.mid "$dir/tunes/"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} timeout 120 env LD_PRELOAD="${PD_PRELOAD:-}" \
    "$pd" -nogui -noaudio -nomidi -nrt -batch -stderr -path "${PD_PATH:-$(pwd)}" \
    -open tests/pd/test_learn.pd -send "ln-start symbol $dir" >"$dir/log" 2>&1
rc=$?
sed "s#$dir#<tmp>#g" "$dir/log" >"$dir/out"
# C: refused messages, as they are
grep '^C-info:' "$dir/out"
for o in A B; do
    awk -v o="$o" '
        $1 != o "-info:" && $1 != o "-note:" { next }
        $1 == o "-note:" { notes = notes " " $2; next }
        $2 == "learn" && $3 == "progress" {
            if ($4 < epoch || ($4 == epoch && $5 <= frac) || $5 <= 0 || $5 >= 1 || $6 + 0 != $6 || $6 <= 0)
                bad = bad " [" $0 "]"
            epoch = $4; frac = $5; n++; next
        }
        $2 == "learn" && $3 == "epoch" {
            if ($4 != epoch || $5 + 0 != $5 || $5 <= 0) bad = bad " [" $0 "]"
            frac = 0; if (o == "A") print o ": learn epoch " $4; next
        }
        $2 == "learn" && $3 == "done" {
            print o ": learn progress " (n ? "reported" : "never reported") (bad ? ", out of order:" bad : "")
            if (o == "A") print o ": learn done after " $4 " epochs" ($8 == "stopped" ? ", stopped" : "")
            else print o ": learn done" ($8 == "stopped" ? ", stopped" : "")
            next
        }
        $2 == "generated" { print o ": notes" notes; seen[++k] = notes; notes = ""; next }
        { $1 = o ":"; print }
        END { if (k == 2) print o ": the learned model plays " (seen[1] == seen[2] ? "the same notes" : "other notes") " with the same seed" }
    ' "$dir/out"
done
# what write-model wrote: a model file that names its parent and its training data
if [ -s "$dir/learned.mnet" ] && grep -aq '"parent_model":"[^"]*/tests/fixtures/ref/small.mnet"' "$dir/learned.mnet" &&
   grep -aq "\"train_data\":\"$dir/tunes\"" "$dir/learned.mnet"; then
    echo "learned.mnet: records its parent and its training data"
else
    echo "learned.mnet: missing, or without its parent and training data"
fi
grep -v '^[ABC]-\(info\|note\):' "$dir/out" | grep -v '^error: melodynet: ' | sed 's/^/other: /'
echo "exit $rc"
rm -rf "$dir"
