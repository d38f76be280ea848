#!/bin/sh
# screenshots.sh [OUT] [PATCH...] - opens each help and example patch (all by default) in the
# real Pd GUI under Xvfb, opens every [pd NAME] subpatch of it too, and saves one PNG per
# window in OUT (default build/screenshots): PATCH.png and PATCH--NAME.png. Look at them: the
# text must not overlap, no box may be cut off, and no object may be dashed (uncreated).
# Then it clicks every message box in those windows (tools/click_boxes.py), as a user trying the
# help would, on a copy of the patch's folder so that files the patches write stay out of the
# tree. Pd's console output of each run goes to OUT/PATCH.log; a "couldn't create" or an error
# there fails the run. Needs xvfb, xdotool, imagemagick and puredata-gui (make screenshots
# installs them).
set -u
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
out=${1:-build/screenshots}
[ $# -gt 0 ] && shift
patches=${*:-$(ls help-patches/*.pd help-patches/examples/*.pd)}
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
for tool in Xvfb xdotool import pd; do
    command -v $tool >/dev/null || { echo "screenshots: $tool is missing" >&2; exit 2; }
done

disp=:77
Xvfb $disp -screen 0 1920x1600x24 -nolisten tcp >/dev/null 2>&1 &
xpid=$!
trap 'kill $xpid 2>/dev/null' EXIT
sleep 1
export DISPLAY=$disp

fail=0
for p in $patches; do
    name=$(basename "$p" .pd)
    rm -f "$out/$name.png" "$out/$name--"*.png
    work=$(mktemp -d)
    cp -r "$(dirname "$p")" "$work/" || exit 2
    dir=$work/$(basename "$(cd "$(dirname "$p")" && pwd)")
    # a driver patch that opens each subpatch after the main window is up
    drv=$work/shots.pd
    subs=$(sed -n 's/^#X restore [-0-9]* [-0-9]* pd \([^ ;,]*\).*/\1/p' "$p")
    {
        echo "#N canvas 0 0 200 100 12;"
        echo "#X obj 10 10 loadbang;"
        echo "#X obj 10 40 delay 1500;"
        msg=""
        for s in $subs; do msg="$msg \\; pd-$s vis 1"; done
        echo "#X msg 10 70 $msg;"
        echo "#X connect 0 0 1 0;"
        echo "#X connect 1 0 2 0;"
    } >"$drv"
    # no -path: the patch must find the objects itself (declare), as it does once installed;
    # MN_SHOT_PATH adds a search path for an in-place build
    pd -noaudio -nomidi -stderr ${MN_SHOT_PATH:+-path "$MN_SHOT_PATH"} -open "$dir/$name.pd" \
        -open "$drv" >"$out/$name.log" 2>&1 &
    pdpid=$!
    sleep 5
    for w in $(xdotool search --onlyvisible --class PatchWindow 2>/dev/null); do
        title=$(xdotool getwindowname "$w")
        case "$title" in
            shots.pd*) continue ;;
            "$name.pd"*) file="$out/$name.png" ;;
            *) sub=$(echo "$title" | cut -d' ' -f1); file="$out/$name--$sub.png" ;;
        esac
        # no window manager: raise the window above the others before reading its pixels
        xdotool windowraise "$w" 2>/dev/null
        sleep 1
        import -window "$w" "$file" 2>/dev/null && echo "screenshots: $file"
    done
    /usr/bin/python3 tools/click_boxes.py "$dir/$name.pd" || fail=1
    sleep 2
    kill $pdpid 2>/dev/null; wait $pdpid 2>/dev/null
    rm -rf "$work"
    if grep -q "couldn't create" "$out/$name.log"; then
        echo "screenshots: $p: couldn't create (see $out/$name.log)" >&2
        fail=1
    fi
    # the copy index (models/default.mncopy) is not distributed: without it "similar" can only
    # say so, which is what the help's comment tells the user
    errs=$(grep -i "error" "$out/$name.log" | grep -v "default\.mncopy: cannot open")
    if [ -n "$errs" ]; then
        echo "screenshots: $p: errors on Pd's console:" >&2
        echo "$errs" | head -5 >&2
        fail=1
    fi
    if grep -q "default\.mncopy: cannot open" "$out/$name.log"; then
        echo "screenshots: $p: no copy index: \"similar\" and \"novelty\" need it (make copy-index)"
    fi
done
exit $fail
