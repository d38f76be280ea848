#!/bin/sh
# install-deps.sh - installs the Debian packages melodynet needs for building, testing and the
# demo, if any is missing. Uses sudo when not run as root. Extra packages may be named as
# arguments (e.g. python3-torch for the benchmarks).
set -e
# zip/unzip: make dist and its test
pkgs="build-essential pkg-config puredata-core puredata-dev puredata-utils pd-lib-builder \
libopenblas-dev libcmocka-dev python3 python3-mido zip unzip $*"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "melodynet: installing missing packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing >&2
