#!/bin/sh
# test_delete_loading.sh - run by run.sh in place of a plain batch run of test_delete_loading.pd:
# objects deleted while the loader reads one of their files (held up by slowopen.so, as on a slow
# share) and while their other requests wait behind it. Deleting must not wait for the file:
# Pd's own thread opens the gate after the deletion, and a new object's read then comes through
# the same loader. Waiting for the file instead would make slowopen give up and say so.
# PD_PATH is the folder of the externals (default the current one).
set -u
pd=${PD:-pd}
dir=$(mktemp -d)
${CC:-cc} -shared -fPIC -O2 -o "$dir/slowopen.so" tests/pd/slowopen.c -ldl || exit 1
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
    MN_SLOWOPEN_MARK=/fixtures/ MN_SLOWOPEN_GATE="$dir/gate" MN_SLOWOPEN_LIMIT_S=10 \
    timeout 120 env LD_PRELOAD="${PD_PRELOAD:+$PD_PRELOAD }$dir/slowopen.so" \
    "$pd" -nogui -noaudio -nomidi -nrt -batch -stderr -path "${PD_PATH:-$(pwd)}" \
    -open tests/pd/test_delete_loading.pd -send "dl-start symbol $dir" >"$dir/log" 2>&1
rc=$?
sed "s#$dir#<tmp>#g" "$dir/log"
echo "exit $rc"
rm -rf "$dir"
