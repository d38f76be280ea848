#!/bin/sh
# run.sh - runs the Pd patch tests: each tests/pd/test_*.pd in `pd -batch` and its console
# output compared with tests/pd/test_*.golden (paths under the repo root shown as <root>), then
# every help and example patch opened, which must print nothing that looks like an error.
# A test fails on a diff, a timeout, a crash or any "couldn't create"; a test_*.sh beside a
# test_*.pd runs Pd itself and its output is compared instead. Run from the repo root;
# `--golden` rewrites the golden files instead of comparing. Exits non-zero on any failure.
# PD overrides the pd command; PD_PRELOAD is put in LD_PRELOAD for Pd only (sanitizer builds).
set -u
root=$(pwd)
pd=${PD:-pd}
golden=0
[ "${1:-}" = "--golden" ] && golden=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fails=0
# an empty HOME: a melodynet installed in ~/.local/lib/pd/extra (found first through the
# patches' [declare -path melodynet]) or the user's ~/.pdsettings must not change what is tested
mkdir "$out/home"

runpd() { # runpd FILE [extra args]: console output of a batch run on stdout
    f=$1
    shift
    HOME="$out/home" LD_PRELOAD=${PD_PRELOAD:-} ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
        timeout 120 "$pd" -nogui -noaudio -nomidi -batch -stderr -path "$root" -open "$f" "$@" 2>&1
    echo "exit $?"
}

# Paths and object addresses differ between machines and runs.
normalize() {
    sed -e "s#$root#<root>#g" -e 's/0x[0-9a-f]\{6,\}/0xADDR/g'
}

for t in tests/pd/test_*.pd; do
    name=$(basename "$t" .pd)
    if [ -f "tests/pd/$name.sh" ]; then
        # a test that drives Pd itself (e.g. samples its /proc status while it runs)
        PD=$pd sh "tests/pd/$name.sh" | normalize >"$out/$name.out"
    else
        runpd "$t" | normalize >"$out/$name.out"
    fi
    if [ $golden -eq 1 ]; then
        cp "$out/$name.out" "tests/pd/$name.golden"
        echo "golden $name"
        continue
    fi
    if grep -q "couldn't create" "$out/$name.out"; then
        echo "FAIL $name: an object could not be created"
        grep "couldn't create" "$out/$name.out" | head -5
        fails=$((fails + 1))
    elif ! diff -u "tests/pd/$name.golden" "$out/$name.out" >"$out/$name.diff" 2>&1; then
        echo "FAIL $name: output differs from tests/pd/$name.golden"
        head -40 "$out/$name.diff"
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
done

# Help and example patches: open, let them run a moment, quit. Anything error-like fails.
[ $golden -eq 1 ] && exit 0
for p in help-patches/*.pd help-patches/examples/*.pd; do
    [ -f "$p" ] || continue
    name=$(basename "$p")
    runpd "$p" -send "pd quit" >"$out/help.out"
    if grep -qiE "couldn't create|error|fail|exit [1-9]|sanitizer" "$out/help.out"; then
        echo "FAIL open $name"
        head -20 "$out/help.out"
        fails=$((fails + 1))
    else
        echo "ok   open $name"
    fi
done

if [ $fails -ne 0 ]; then
    echo "pd tests: $fails failed"
    exit 1
fi
echo "pd tests: all passed"
