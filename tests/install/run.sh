#!/bin/sh
# tests/install/run.sh - the library as a Pd user gets it: `make install` into a clean HOME
# (HOME/.local/lib/pd/extra/melodynet, one of Pd's standard paths) and Pd started with that
# HOME and no -path. The externals need no shared library but libc, libm, libpthread and the
# dynamic loader (readelf -d) and export no OpenBLAS symbol; a patch outside the folder with
# [declare -path melodynet] creates both objects, plays a note, finds the bundled model and
# opens both help patches the way right-click -> Help does; a patch with no declare creates
# [melodynet] and [melodynet/melodynet~]; every installed help patch and example opens. Any
# "couldn't create" or error-like line fails. Run from the repo root after `make`. PD overrides
# the pd command.
set -u
pd=${PD:-pd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
shown() { sed -e 's/^/     /' "$1" | head -${2:-20}; }

case $(uname -m) in
x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; i?86) arch=i386 ;; arm*) arch=arm ;; *) arch=$(uname -m) ;;
esac
ext=l_$arch

# the only shared libraries a shipped external may need
deps_ok() { # deps_ok FOLDER: NEEDED entries of both externals
    for b in "$1/melodynet.$ext" "$1/melodynet~.$ext"; do
        if [ ! -f "$b" ]; then
            bad "$2: $(basename "$b") is missing"
            continue
        fi
        needed=$(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
        other=$(echo "$needed" | grep -v -x -e libc.so.6 -e libm.so.6 -e libpthread.so.0 \
                -e 'ld-linux[-a-z0-9_]*\.so\.[0-9]*' | tr '\n' ' ')
        if [ -z "$needed" ]; then
            bad "$2: readelf -d shows no NEEDED entry in $(basename "$b")"
        elif [ -n "$other" ]; then
            bad "$2: $(basename "$b") needs $other(only libc, libm, libpthread may be)"
        else
            ok "$2: $(basename "$b") needs only $(echo $needed)"
        fi
        # the static OpenBLAS stays private: Pd loads externals RTLD_GLOBAL
        blas=$(nm -D --defined-only "$b" | grep -c -i -E ' (cblas_|openblas_|gotoblas|sgemv)')
        [ "$blas" -eq 0 ] || bad "$2: $(basename "$b") exports $blas OpenBLAS symbols"
    done
}

runpd() { # runpd HOME OUT PATCH [args]: batch Pd with that HOME, no -path, from that HOME
    run_h=$1; run_o=$2; run_p=$3; shift 3
    (cd "$run_h" && HOME=$run_h timeout 120 "$pd" -nogui -noaudio -nomidi -batch -stderr \
        -open "$run_p" "$@" >"$run_o" 2>&1; echo "exit $?" >>"$run_o")
}
errors() { # errors OUT: the error-like lines of a Pd run
    grep -iE "couldn't create|couldn't find|error|fail|no such|unknown|warning|exit [1-9]" "$1"
}

# user.pd: outside the library folder, as a user's own patch
write_user_patch() {
    cat >"$1" <<'PD'
#N canvas 0 50 600 400 12;
#X declare -path melodynet;
#X obj 20 20 declare -path melodynet;
#X obj 20 60 melodynet;
#X obj 20 100 melodynet~;
#X obj 300 20 loadbang;
#X obj 300 50 t b b b;
#X msg 300 90 60 62 64 65 67 \, bang;
#X msg 400 90 info;
#X msg 20 200 \; pd-user.pd done-popup 2 25 68 \; pd-user.pd done-popup 2 25 108 \; pd-melodynet-help.pd dirty 0 \; pd-melodynet~-help.pd dirty 0 \; user-done bang;
#X obj 20 140 print user-note;
#X obj 200 140 print user-tilde;
#X obj 300 140 r user-done;
#X obj 300 170 print help-patches-open;
#X connect 3 0 4 0;
#X connect 4 0 7 0;
#X connect 4 1 6 0;
#X connect 4 2 5 0;
#X connect 5 0 1 0;
#X connect 6 0 2 0;
#X connect 1 0 8 0;
#X connect 2 3 9 0;
#X connect 10 0 11 0;
PD
}
# nodeclare.pd: [melodynet~] named through the library folder instead of a declare
write_nodeclare_patch() {
    cat >"$1" <<'PD'
#N canvas 0 50 400 300 12;
#X obj 20 20 melodynet;
#X obj 20 60 melodynet/melodynet~;
PD
}

check_folder() { # check_folder NAME HOME LIBDIR
    name=$1; h=$2; lib=$3
    deps_ok "$lib" "$name"
    mkdir -p "$h/patches"
    write_user_patch "$h/patches/user.pd"
    runpd "$h" "$tmp/user.out" "$h/patches/user.pd" -send "pd quit"
    why=""
    errors "$tmp/user.out" >/dev/null && why="error-like lines"
    grep -q "^user-note: [0-9]" "$tmp/user.out" || why="${why:+$why, }[melodynet] played no note"
    grep -q "$lib/models/default.mnet" "$tmp/user.out" ||
        why="${why:+$why, }[melodynet~] does not report the bundled model $lib/models/default.mnet"
    grep -q "^help-patches-open" "$tmp/user.out" || why="${why:+$why, }the patch did not run to its end"
    if [ -z "$why" ]; then
        ok "$name: a user patch with [declare -path melodynet] creates both objects and opens their help"
    else
        bad "$name: user patch: $why"; shown "$tmp/user.out"
    fi
    write_nodeclare_patch "$h/patches/nodeclare.pd"
    runpd "$h" "$tmp/nodeclare.out" "$h/patches/nodeclare.pd" -send "pd quit"
    if errors "$tmp/nodeclare.out" >/dev/null; then
        bad "$name: [melodynet] and [melodynet/melodynet~] without a declare"; shown "$tmp/nodeclare.out"
    else
        ok "$name: [melodynet] and [melodynet/melodynet~] without a declare"
    fi
    open_all "$name" "$h" "$lib"
}

open_all() { # open_all NAME HOME LIBDIR: every installed patch opens; the examples beside the help
    name=$1; h=$2; lib=$3
    for p in $(cd "$lib" && find . -name '*.pd' | sed 's#^\./##' | sort); do
        runpd "$h" "$tmp/open.out" "$lib/$p" -send "pd quit"
        if errors "$tmp/open.out" >/dev/null; then
            bad "$name: open $p"; shown "$tmp/open.out"
        else
            ok "$name: open $p"
        fi
    done
    for p in help-patches/*-help.pd help-patches/examples/*.pd; do
        [ -f "$lib/${p#help-patches/}" ] || bad "$name: ${p#help-patches/} is not installed"
    done
}

# --- make install into a clean HOME
home=$tmp/install
mkdir -p "$home"
if env -u PDLIBDIR HOME="$home" make --no-print-directory install >"$tmp/make.out" 2>&1; then
    check_folder install "$home" "$home/.local/lib/pd/extra/melodynet"
else
    bad "make install HOME=$home"; shown "$tmp/make.out" 40
fi

echo "install tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
