#!/bin/sh
# tests/install/run.sh - the library as a Pd user gets it, with Pd started with no -path and a
# clean HOME, in five places:
#   install   `make install`: HOME/.local/lib/pd/extra/melodynet (one of Pd's standard paths)
#   dek       the `make dist` .dek unzipped into HOME/pd-externals (another standard path)
#   dek-prefs the .dek unzipped into HOME/Documents/Pd/externals, a folder on Pd's path through
#             HOME/.pdsettings (what Preferences -> Path saves; deken's usual place)
#   dek-path  the .dek unzipped into HOME/pd, with HOME/pd/melodynet itself on Pd's path: a
#             patch with plain [melodynet] and [melodynet~] and no declare
#   dek-elsewhere the .dek unzipped into HOME/Downloads, which Pd does not search: only the
#             help patches and examples are opened there
# In the first three: the externals need no shared library but libc, libm, libpthread and the
# dynamic loader (readelf -d) and export no BLAS symbol; a patch outside the folder with
# [declare -path melodynet] creates both objects, plays a note, finds the bundled model and
# opens both help patches the way right-click -> Help does; a patch with no declare creates
# [melodynet] and [melodynet/melodynet~]; every installed patch opens, the examples in
# examples/. Any "couldn't create" or error-like line fails. The .dek itself: one top-level
# melodynet/ folder with both externals, the help patches, the examples, the model and the meta
# patch; its .sha256 matches; its .dek.txt names both objects; the meta patch's VERSION is the
# Makefile's and mnpd.h's.
# Run from the repo root after `make`. PD overrides the pd command.
set -u
pd=${PD:-pd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
shown() { sed -e 's/^/     /' "$1" | head -n "${2:-20}"; }

version=$(sed -n 's/^VERSION *= *//p' Makefile)
case $(uname -m) in
x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; i?86) arch=i386 ;; arm*) arch=arm ;;
*) arch=$(uname -m) ;;
esac
ext=l_$arch
dekname="melodynet[v$version](Linux-$arch-32).dek"

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
            ok "$2: $(basename "$b") needs only $(echo "$needed" | tr '\n' ' ')"
        fi
        # no BLAS inside: Pd loads externals RTLD_GLOBAL, so exported BLAS symbols would bind
        # another external's BLAS calls to this copy
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
    grep -q "^help-patches-open" "$tmp/user.out" ||
        why="${why:+$why, }the patch did not run to its end"
    if [ -z "$why" ]; then
        ok "$name: a patch with [declare -path melodynet] creates both objects, opens their help"
    else
        bad "$name: user patch: $why"; shown "$tmp/user.out"
    fi
    write_nodeclare_patch "$h/patches/nodeclare.pd"
    runpd "$h" "$tmp/nodeclare.out" "$h/patches/nodeclare.pd" -send "pd quit"
    if errors "$tmp/nodeclare.out" >/dev/null; then
        bad "$name: [melodynet] and [melodynet/melodynet~] without a declare"
        shown "$tmp/nodeclare.out"
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

# --- make dist
dist=$tmp/dist
if ! make --no-print-directory dist DISTDIR="$dist" >"$tmp/dist.out" 2>&1; then
    bad "make dist"; shown "$tmp/dist.out" 40
elif [ ! -f "$dist/$dekname" ]; then
    bad "make dist wrote no $dekname:"; ls "$dist" | sed 's/^/     /'
else
    dek=$dist/$dekname
    unzip -Z1 "$dek" >"$tmp/list" 2>&1
    top=$(sed 's#/.*##' "$tmp/list" | sort -u | tr '\n' ' ')
    if [ "$top" = "melodynet " ]; then
        ok "$dekname holds one top-level folder, melodynet/"
    else
        bad "$dekname: top-level entries: $top"
    fi
    missing=""
    for f in "melodynet.$ext" "melodynet~.$ext" melodynet-help.pd melodynet~-help.pd \
             melodynet-meta.pd models/default.mnet README.md LICENSE \
             $(cd help-patches && ls examples/*.pd); do
        grep -q -x "melodynet/$f" "$tmp/list" || missing="$missing $f"
    done
    if [ -z "$missing" ]; then
        ok "$dekname holds both externals, help, examples, the model and the meta patch"
    else
        bad "$dekname lacks:$missing"; shown "$tmp/list" 40
    fi
    sum=$(sha256sum "$dek" | cut -d' ' -f1)
    if [ -f "$dek.sha256" ] && [ "$(cut -d' ' -f1 "$dek.sha256")" = "$sum" ]; then
        ok "$dekname.sha256 matches"
    else
        bad "$dekname.sha256 is missing or does not match $sum"
    fi
    objs=""
    for o in melodynet melodynet~; do
        grep -q "^$o	[^	 ][^	]*[^	 ]$" "$dek.txt" 2>/dev/null || objs="$objs $o"
    done
    if [ -z "$objs" ] && [ "$(wc -l <"$dek.txt")" -eq 2 ]; then
        ok "$dekname.txt: $(cut -f1 "$dek.txt" | tr '\n' ' ')with one-line descriptions"
    else
        bad "$dekname.txt does not list${objs:- exactly the two objects} as name<TAB>description"
        [ -f "$dek.txt" ] && shown "$dek.txt"
    fi
    meta=$(unzip -p "$dek" melodynet/melodynet-meta.pd 2>/dev/null)
    fields=""
    for k in NAME AUTHOR VERSION LICENSE DESCRIPTION; do
        echo "$meta" | grep -q "^#X text [0-9]* [0-9]* $k [^;]" || fields="$fields $k"
    done
    if [ -n "$fields" ] || ! echo "$meta" | grep -q "^#X restore .* pd META;"; then
        bad "melodynet-meta.pd: no [pd META] with$fields"
    elif ! echo "$meta" | grep -q "^#X text [0-9]* [0-9]* VERSION $version;"; then
        bad "melodynet-meta.pd: VERSION is not the Makefile's $version"
    elif ! grep -q "^#define MNPD_VERSION \"$version\"" externals/mnpd.h; then
        bad "externals/mnpd.h: MNPD_VERSION is not the Makefile's $version"
    else
        ok "melodynet-meta.pd: [pd META] with NAME AUTHOR VERSION ($version) LICENSE DESCRIPTION"
    fi
    # --- the .dek unzipped where Pd searches by itself, and where a user's path points
    home=$tmp/dek
    mkdir -p "$home/pd-externals"
    if unzip -q "$dek" -d "$home/pd-externals"; then
        check_folder dek "$home" "$home/pd-externals/melodynet"
    else
        bad "unzip $dek"
    fi
    home=$tmp/dek-prefs
    mkdir -p "$home/Documents/Pd/externals"
    printf 'npath: 1\npath1: %s\nstandardpath: 1\n' "$home/Documents/Pd/externals" \
        >"$home/.pdsettings"
    if unzip -q "$dek" -d "$home/Documents/Pd/externals"; then
        check_folder dek-prefs "$home" "$home/Documents/Pd/externals/melodynet"
    else
        bad "unzip $dek"
    fi
    # the melodynet folder itself on Pd's path (Preferences -> Path): no declare needed
    home=$tmp/dek-path
    mkdir -p "$home/pd" "$home/patches"
    printf 'npath: 1\npath1: %s\nstandardpath: 1\n' "$home/pd/melodynet" >"$home/.pdsettings"
    printf '#N canvas 0 50 400 300 12;\n#X obj 20 20 melodynet;\n#X obj 20 60 melodynet~;\n' \
        >"$home/patches/plain.pd"
    if unzip -q "$dek" -d "$home/pd"; then
        runpd "$home" "$tmp/plain.out" "$home/patches/plain.pd" -send "pd quit"
        if errors "$tmp/plain.out" >/dev/null; then
            bad "dek-path: [melodynet] and [melodynet~] with the folder on Pd's path"
            shown "$tmp/plain.out"
        else
            ok "dek-path: [melodynet] and [melodynet~] with the folder on Pd's path, no declare"
        fi
    else
        bad "unzip $dek"
    fi
    # unzipped into a folder Pd does not search: its own help patches and examples still open
    home=$tmp/dek-elsewhere
    mkdir -p "$home/Downloads"
    if unzip -q "$dek" -d "$home/Downloads"; then
        open_all dek-elsewhere "$home" "$home/Downloads/melodynet"
    else
        bad "unzip $dek"
    fi
fi

echo "install tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
