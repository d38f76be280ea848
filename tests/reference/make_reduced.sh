#!/bin/sh
# make_reduced.sh - writes the bf16 and int8 fixtures of tests/fixtures/ref/small.mnet with
# `melodynet convert` (run from the repo root after make): small-bf16.mnet, small-int8.mnet.
set -e
for dt in bf16 int8; do
    bin/melodynet convert tests/fixtures/ref/small.mnet -o tests/fixtures/ref/small-$dt.mnet --dtype $dt
done
