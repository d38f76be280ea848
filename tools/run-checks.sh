#!/bin/sh
# run-checks.sh BUILD CLI TEST_BIN... [--no-pd] - runs the cmocka unit tests, the CLI tests, the
# PyTorch trainer tests (skipped without PyTorch) and (unless --no-pd) the Pd patch tests and
# the install tests; prints each suite's summary and exits non-zero if any failed.
build=$1; cli=$2; shift 2
pd=1
fail=0
for t in "$@"; do
    case "$t" in --no-pd) pd=0; continue ;; esac
    echo "== $(basename "$t")"
    if ! "$t"; then
        echo "FAILED: $t"
        fail=1
    fi
done
echo "== build tests"
if ! tests/build/run.sh; then fail=1; fi
echo "== layout (run-time core, offline tools, externals)"
if ! tests/build/layout.sh; then fail=1; fi
echo "== help patch checks"
if ! /usr/bin/python3 tests/help/check_help.py; then fail=1; fi
echo "== CLI tests"
if ! MN_CLI="$cli" tests/cli/run.sh; then fail=1; fi
echo "== PyTorch trainer tests"
if ! MN_CLI="$cli" MN_HELPER="$build/tests/torch/session_logits" tests/torch/run.sh; then fail=1; fi
if [ $pd -eq 1 ] && [ -x tests/pd/run.sh ]; then
    echo "== Pd patch tests"
    if ! tests/pd/run.sh; then fail=1; fi
fi
if [ $pd -eq 1 ]; then
    echo "== install tests (make install, make dist, Pd with no -path)"
    if ! tests/install/run.sh; then fail=1; fi
fi
if [ $fail -ne 0 ]; then
    echo "make check: FAILED"
    exit 1
fi
echo "make check: all passed"
