#!/bin/sh
# tests/build/layout.sh - the boundary between what runs inside Pd and the offline tools:
#  1. the Makefile's CORE_RT names every C file of core/rt and nothing else, CORE_TOOLS every
#     file of core/tools, and the externals link CORE_RT, CORE_LEARN (the part of core/tools
#     that `learn` runs: never eval, report, SVG, n-gram, token files nor the OpenBLAS products)
#     and their own glue;
#  2. every file of core/rt compiles with core/rt as its only include folder (so it includes no
#     header of core/tools, cli or externals), and that check is seen to fail on a file that does;
#  3. the externals use every module they link: starting from the externals' own objects, the
#     symbols they need reach each object of CORE_RT and CORE_LEARN.
# Run by `make check` (tools/run-checks.sh); needs the Pd headers.
set -u
cd "$(dirname "$0")/../.." || exit 2
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

make -s --no-print-directory print-layout >"$tmp/sets" 2>&1 || { cat "$tmp/sets"; exit 2; }
get() { sed -n "s/^$1=//p" "$tmp/sets"; }
core_rt=$(get CORE_RT); core_tools=$(get CORE_TOOLS); core_learn=$(get CORE_LEARN); common=$(get COMMON)
classes=$(get CLASS_SOURCES); pdinc=$(get PDINCLUDEDIR)

# 1. each set named once, and named whole
same_set() { # label listed folder
    have=$(printf '%s\n' $2 | sort); want=$(ls $3/*.c | sort)
    if [ "$have" = "$want" ]; then ok "$1 names exactly the C files of $3"
    else bad "$1 and $3/*.c differ: $(printf '%s\n%s\n' "$have" "$want" | sort | uniq -u | tr '\n' ' ')"
    fi
}
same_set CORE_RT "$core_rt" core/rt
same_set CORE_TOOLS "$core_tools" core/tools
ext_core=$(printf '%s\n' $common | grep '^core/' | sort)
if [ "$ext_core" = "$(printf '%s\n' $core_rt $core_learn | sort)" ]; then
    ok "the externals link CORE_RT and CORE_LEARN, and no other file of core/tools"
else
    bad "the externals' common.sources core files are not CORE_RT and CORE_LEARN: $(echo $ext_core)"
fi
for f in $core_learn; do
    case " $core_tools " in *" $f "*) ;; *) bad "CORE_LEARN names $f, which is not in CORE_TOOLS" ;; esac
done
never=""
for f in $core_learn; do
    case $f in core/tools/eval.c|core/tools/report.c|core/tools/svg.c|core/tools/ngram.c|\
               core/tools/tokens.c|core/tools/gemm_blas.c) never="$never $f" ;; esac
done
if [ -z "$never" ]; then ok "CORE_LEARN holds none of eval, report, SVG, n-gram, tokens, OpenBLAS"
else bad "the externals link offline tools they must not:$never"
fi

# 2. run-time files include run-time headers only
rt_alone() { # file: compiles with -Icore/rt only (headers as C)
    $CC -std=c11 -D_GNU_SOURCE -fsyntax-only -x c -Icore/rt "$1" >"$tmp/cc.out" 2>&1
}
n=0; for f in core/rt/*.c core/rt/*.h; do
    if rt_alone "$f"; then n=$((n + 1))
    else bad "$f does not compile with core/rt as its only include folder:"; sed 's/^/     /' "$tmp/cc.out"
    fi
done
ok "$n files of core/rt compile with core/rt as their only include folder"
# the check itself: a run-time file that includes an offline header must fail it
mkdir -p "$tmp/rt"
cp core/rt/*.h "$tmp/rt/"
printf '#include "event.h"\n#include "train.h"\nint mn_layout_probe;\n' >"$tmp/rt/probe.c"
if $CC -std=c11 -fsyntax-only -x c -I"$tmp/rt" "$tmp/rt/probe.c" >/dev/null 2>&1; then
    bad "a run-time file including train.h passed the include check"
else
    ok "a run-time file including an offline header (train.h) fails the include check"
fi

# 3. every linked run-time module is used by the externals
mkdir -p "$tmp/o"
for f in $common $classes; do
    o="$tmp/o/$(echo "$f" | tr '/' '_').o"
    $CC -std=c11 -D_GNU_SOURCE -fPIC -O0 -Icore/rt -Icore/tools -I"$pdinc" -c "$f" -o "$o" 2>"$tmp/cc.out" ||
        { bad "cannot compile $f:"; cat "$tmp/cc.out"; }
done
for o in "$tmp"/o/*.o; do
    nm -g --defined-only "$o" | awk -v o="$(basename "$o")" 'NF == 3 { print $3, o }'
done | sort >"$tmp/defs"
# the objects reached from the externals' own files through their undefined symbols
reached=""
todo=""
for f in $classes externals/mnpd.c; do todo="$todo $(echo "$f" | tr '/' '_').o"; done
while [ -n "$(echo $todo)" ]; do
    next=""
    for o in $todo; do
        case " $reached " in *" $o "*) continue ;; esac
        reached="$reached $o"
        for d in $(nm -u "$tmp/o/$o" | awk '{ print $2 }' | sort -u |
                   join - "$tmp/defs" | awk '{ print $2 }' | sort -u); do
            case " $reached $next " in *" $d "*) ;; *) next="$next $d" ;; esac
        done
    done
    todo=$next
done
unused=""
for f in $core_rt $core_learn; do
    o="$(echo "$f" | tr '/' '_').o"
    case " $reached " in *" $o "*) ;; *) unused="$unused $f" ;; esac
done
if [ -z "$unused" ]; then ok "the externals use every module of CORE_RT and CORE_LEARN ($(echo $core_rt $core_learn | wc -w))"
else bad "linked into the externals but used by nothing there:$unused"
fi

echo "layout: $pass passed, $fail failed"
[ $fail -eq 0 ]
