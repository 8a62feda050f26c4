#!/bin/sh
# Weight files load in Python with plain NumPy (issue: "safetensors files
# load in Python with plain NumPy"): train the cancer example briefly, then
# tests/safetensors_numpy.py reads the file and recomputes `predict`.
set -u
NNC=${NNC:-build/nnc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=examples/data
status=1
if "$NNC" examples/cancer.nn -o "$tmp/cancer.c" &&
    cc -O2 "$tmp/cancer.c" -o "$tmp/cancer" -lm -lpthread &&
    "$tmp/cancer" train $data/cancer_train.csv --epochs 5 --verbose 0 --save "$tmp/w.safetensors" &&
    "$tmp/cancer" predict $data/cancer_test.csv --weights "$tmp/w.safetensors" -o "$tmp/pred.csv" &&
    /usr/bin/python3 tests/safetensors_numpy.py "$tmp/w.safetensors" $data/cancer_test.csv "$tmp/pred.csv"; then
    status=0
fi
[ $status -eq 0 ] && echo "numpy: 1 passed, 0 failed" || echo "numpy: 0 passed, 1 failed"
exit $status
