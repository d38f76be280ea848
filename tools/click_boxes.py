#!/usr/bin/python3
"""click_boxes.py PATCH - clicks every message box of PATCH and of its [pd NAME] subpatches in
their open Pd windows (DISPLAY must hold them, in run mode), top to bottom, as a user trying the
help would. screenshots.sh runs it and then reads Pd's console for errors. Needs xdotool."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'help'))
from check_help import parse  # noqa: E402

MENU = 32  # px of the window's menu bar above the canvas


def window(title):
    out = subprocess.run(['xdotool', 'search', '--onlyvisible', '--name', '^%s ' % title],
                         capture_output=True, text=True).stdout.split()
    return out[0] if out else None


def main():
    path = sys.argv[1]
    root = parse(path)
    clicked = 0
    # DSP on first, as a user would before trying the signal objects
    canvases = list(root.all())
    canvases.sort(key=lambda c: not any(b.kind == 'msg' and b.atoms[:4] == ['\\;', 'pd', 'dsp', '1']
                                        for b in c.boxes))
    for c in canvases:
        title = os.path.basename(path) if c is root else c.name
        w = window(title.replace('.', '\\.'))
        if not w:
            print('click_boxes: no window for %s' % title, file=sys.stderr)
            return 1
        boxes = sorted((b for b in c.boxes if b.kind == 'msg'),
                       key=lambda b: (b.atoms[:4] != ['\\;', 'pd', 'dsp', '1'], b.y, b.x))
        for b in boxes:
            subprocess.run(['xdotool', 'windowraise', w])
            subprocess.run(['xdotool', 'mousemove', '--window', w, str(b.x + 4),
                            str(b.y + MENU + 8), 'click', '1'])
            time.sleep(0.15)
            clicked += 1
    print('click_boxes: %s: clicked %d message boxes' % (os.path.basename(path), clicked))
    return 0


if __name__ == '__main__':
    sys.exit(main())
