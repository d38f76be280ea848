#!/bin/sh
# tests/build/run.sh - the fresh-machine path of the Makefile: with pd-lib-builder absent
# (PDLIBBUILDER_DIR pointed at an empty folder), each README goal must reach the package
# install step before anything needs pd-lib-builder, and then say clearly what is still missing.
# INSTALL_DEPS is replaced by a stand-in that records that it ran.
set -u
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/empty"
cat >"$tmp/deps" <<'SH'
#!/bin/sh
echo "install step reached" >>"$(dirname "$0")/ran"
SH
chmod +x "$tmp/deps"
pass=0; fail=0
for goal in demo check; do
    rm -f "$tmp/ran"
    make --no-print-directory PDLIBBUILDER_DIR="$tmp/empty" INSTALL_DEPS="$tmp/deps" $goal \
        >"$tmp/out" 2>&1
    rc=$?
    why=""
    [ -f "$tmp/ran" ] || why="the install step did not run"
    grep -q "No rule to make target" "$tmp/out" && why="make stopped before the install step"
    [ $rc -ne 0 ] || why="make succeeded without pd-lib-builder"
    grep -q "Makefile.pdlibbuilder is missing after installing" "$tmp/out" ||
        why="${why:-no message says pd-lib-builder is still missing}"
    if [ -z "$why" ]; then
        echo "ok   make $goal without pd-lib-builder reaches the install step"; pass=$((pass + 1))
    else
        echo "FAIL make $goal without pd-lib-builder: $why"; sed 's/^/     /' "$tmp/out"
        fail=$((fail + 1))
    fi
done
echo "build tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
