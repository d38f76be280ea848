#!/bin/sh
# sanitize.sh - runs the Pd patch tests (tests/pd/run.sh) against both externals built with
# AddressSanitizer and UndefinedBehaviorSanitizer, in real Pd with the ASan runtime preloaded.
# The build and the run happen in a temporary copy of the tree, so the release externals in the
# source folder stay as they are. Any report aborts Pd (no recovery), which fails its test.
# Run from the repo root; exits non-zero on any failure. CC overrides the compiler (gcc or clang:
# the runtime preloaded is the one of that compiler).
set -eu
root=$(pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r Makefile core externals tools tests help-patches models "$tmp"/
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
echo "== building the externals with $san"
make -C "$tmp" -s CC="$cc" CFLAGS="-Wall -Wextra -O1 -g $san" LDFLAGS="$san" \
    externals >"$tmp/build.log" 2>&1 || {
    cat "$tmp/build.log"
    exit 1
}
asan=$("$cc" -print-file-name=libasan.so)
[ -f "$asan" ] || { echo "sanitize.sh: no libasan.so for $cc" >&2; exit 1; }
cd "$tmp"
PD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0 sh "$root/tests/pd/run.sh"
