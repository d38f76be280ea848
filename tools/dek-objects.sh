#!/bin/sh
# dek-objects.sh HELP.pd... - prints deken's objects list for the .dek: one line per help patch
# NAME-help.pd, "NAME<TAB>description", the description being the help's DESCRIPTION text when it
# has one (as in a [pd META]) or else its heading's "- ..." text on the main canvas. Fails
# naming the help patch when it has neither.
set -u
status=0
for h in "$@"; do
    name=$(basename "$h" -help.pd)
    desc=$(awk '
        BEGIN { RS = ";\n" }
        { gsub(/\n/, " ") }
        /^#N canvas/ { depth++ }
        /^#X restore/ { depth-- }
        /^#X text -?[0-9]+ -?[0-9]+ DESCRIPTION / && desc == "" { desc = $0 }
        depth == 1 && /^#X text -?[0-9]+ -?[0-9]+ - / && head == "" { head = $0 }
        END {
            s = desc != "" ? desc : head
            sub(/^#X text -?[0-9]+ -?[0-9]+ (DESCRIPTION|-) +/, "", s)
            sub(/, f [0-9]+$/, "", s)
            gsub(/ ?\\,/, ",", s); gsub(/ ?\\;/, ";", s); gsub(/\\\$/, "$", s)
            gsub(/[ \t]+/, " ", s); sub(/ $/, "", s)
            print s
        }' "$h")
    if [ -z "$desc" ]; then
        echo "dek-objects: $h: no DESCRIPTION and no \"- ...\" heading" >&2
        status=1
        continue
    fi
    printf '%s\t%s\n' "$name" "$desc"
done
exit $status
