#!/bin/sh
# test_write.sh - run by run.sh in place of a plain batch run of test_write.pd: copies the patch
# into a fresh folder with a regular file file.txt beside it (so that file.txt/out.mid names a
# folder that is a file) and a read-only folder ro, runs it there (the model small.mnet found on
# Pd's path, copied into the folder with the externals; as root, Pd runs as nobody, whom the
# permissions bind) and prints
# Pd's console output with the folder shown as <dir>, then the files the patch left there and
# Pd's exit status. PD_PATH is the folder of the externals (default the current one).
set -u
pd=${PD:-pd}
root=$(pwd)
dir=$(mktemp -d)
mkdir "$dir/home"
cp tests/pd/test_write.pd "$dir/"
: >"$dir/file.txt"
mkdir "$dir/ro"
# the externals and the model are copied in: the tree itself may sit in a folder that nobody
# cannot enter (mktemp -d makes 0700 folders)
mkdir "$dir/lib"
for f in "${PD_PATH:-$root}"/melodynet.l_* "${PD_PATH:-$root}"/melodynet~.l_*; do
    [ -f "$f" ] && cp "$f" "$dir/lib/"
done
cp tests/fixtures/ref/small.mnet "$dir/lib/"
as=
if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$dir"
    as="setpriv --reuid=nobody --regid=nogroup --clear-groups"
fi
chmod 555 "$dir/ro"
HOME="$dir/home" LD_PRELOAD=${PD_PRELOAD:-} ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
    timeout 120 $as "$pd" -nogui -noaudio -nomidi -nrt -batch -stderr -path "$dir/lib" \
    -open "$dir/test_write.pd" >"$dir/log" 2>&1
rc=$?
sed "s#$dir#<dir>#g" "$dir/log"
echo "files: $(cd "$dir" && ls -A | grep -v -e '^home$' -e '^lib$' -e '^log$' -e '^ro$' | tr '\n' ' ')"
echo "exit $rc"
rm -rf "$dir"
