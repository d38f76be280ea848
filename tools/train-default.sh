#!/bin/sh
# train-default.sh DATA_DIR [OUT] - retrains the bundled default model exactly as models/README.md
# documents: the train splits of the Nottingham and Essen corpora under DATA_DIR (laid out as
# DATA_DIR/{nottingham,essen}/{train,valid}.txt), validation on their valid splits, then scores
# each valid split next to the n-gram baseline. Writes OUT (default models/default.mnet) with
# OUT.csv and OUT.svg beside it. Takes about an hour on one core.
set -e
data=${1:?usage: tools/train-default.sh DATA_DIR [OUT]}
out=${2:-models/default.mnet}
cd "$(dirname "$0")/.."
for c in nottingham essen; do
    for s in train valid; do
        [ -f "$data/$c/$s.txt" ] || { echo "train-default: $data/$c/$s.txt not found" >&2; exit 1; }
    done
done
bin/melodynet train "$data/nottingham/train.txt" "$data/essen/train.txt" \
    --valid "$data/nottingham/valid.txt" "$data/essen/valid.txt" \
    -o "$out" --layers 2 --hidden 256 --embed 64 --pos 192 --max-durations 32 \
    --batch 32 --seq 64 --lr 0.002 --lr-decay 0.7 --epochs 5 --patience 2 --dropout 0.2 \
    --seed 2 --threads 1 \
    --license "GPL-3.0-or-later: trained on the Nottingham Music Database (GPL-3.0) and the Essen Folksong Collection (research use); see models/README.md"
# the motif memory fitted for this network on the valid splits, and the copy guard's index
bin/melodynet fit-motif -m "$out" "$data/nottingham/valid.txt" "$data/essen/valid.txt" -o "$out"
bin/melodynet copy-index -m "$out" "$data/nottingham/train.txt" "$data/essen/train.txt" -o "$out"
for c in nottingham essen; do
    echo "== $c valid"
    bin/melodynet eval -m "$out" --baseline "$data/$c/train.txt" "$data/$c/valid.txt"
done
