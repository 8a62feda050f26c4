#!/bin/sh
# Derive the multi-label digits set used by examples/multilabel.nn from the
# scikit-learn digits split (examples/data/digits_{train,test}.csv):
# the same 64 pixel columns, in the same row order, and in place of the
# digit `target` three 0/1 columns:
#   even  = digit is even (0 2 4 6 8)
#   gt4   = digit is greater than 4 (5 6 7 8 9)
#   prime = digit is prime (2 3 5 7)
# Deterministic and byte-stable; the committed examples/data/multilabel_*.csv
# were written by it and tests/examples.sh checks that they still match.
#   sh tests/make_multilabel.sh [SRC_DIR [OUT_DIR]]
# reads SRC_DIR/digits_{train,test}.csv (default examples/data) and writes
# OUT_DIR/multilabel_{train,test}.csv (default SRC_DIR).
set -eu
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/examples/data}
out=${2:-$dir}
for split in train test; do
    awk -F, 'BEGIN { OFS = "," }
        NR == 1 { $NF = "even,gt4,prime"; print; next }
        {
            d = $NF + 0
            if (d != $NF || d < 0 || d > 9) { print FILENAME ":" NR ": bad digit " $NF > "/dev/stderr"; exit 1 }
            even = (d % 2 == 0) ? 1 : 0
            gt4 = (d > 4) ? 1 : 0
            prime = (d == 2 || d == 3 || d == 5 || d == 7) ? 1 : 0
            $NF = even "," gt4 "," prime
            print
        }' "$dir/digits_$split.csv" >"$out/multilabel_$split.csv.tmp"
    mv "$out/multilabel_$split.csv.tmp" "$out/multilabel_$split.csv"
done
