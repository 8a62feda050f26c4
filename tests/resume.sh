#!/bin/sh
# Killing training mid-run and resuming from its checkpoint ends with the
# same bytes as an uninterrupted run (SPEC 3: checkpoints written
# atomically each epoch; --resume is bit-exact). The trainer is killed with
# SIGKILL at an arbitrary moment, so this also checks that the checkpoint
# on disk is always a whole one.
set -u
NNC=${NNC:-build/nnc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=examples/data/digits_train.csv
epochs=1500
result() { echo "resume: $1 passed, $2 failed"; exit "$2"; }

"$NNC" examples/digits.nn -o "$tmp/digits.c" && cc -O2 "$tmp/digits.c" -o "$tmp/digits" -lm -lpthread ||
    result 0 1
train() { "$tmp/digits" train $data --epochs $epochs --verbose 0 "$@"; }
train --save "$tmp/straight.safetensors" || result 0 1

# Kill after a growing delay until a checkpoint exists but training has not
# finished (a kill before the first epoch, or after the last, proves nothing).
for delay in 0.3 0.6 1 1.5 2 3; do
    rm -f "$tmp/run.ckpt" "$tmp/resumed.safetensors"
    # The trainer itself in the background (not a subshell), so the kill hits it.
    "$tmp/digits" train $data --epochs $epochs --verbose 0 --checkpoint "$tmp/run.ckpt" \
        --save "$tmp/killed.safetensors" &
    pid=$!
    sleep $delay
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    [ -f "$tmp/killed.safetensors" ] && break # finished before the kill
    [ -f "$tmp/run.ckpt" ] || continue
    # A kill during a write may leave the writer's temporary file (nothing
    # can remove it after SIGKILL), but never a partial run.ckpt: the rename
    # is atomic, so the checkpoint is whole and the resume below reads it.
    train --resume "$tmp/run.ckpt" --save "$tmp/resumed.safetensors" || result 0 1
    if cmp -s "$tmp/straight.safetensors" "$tmp/resumed.safetensors"; then
        result 1 0
    fi
    echo "FAIL: killed after ${delay}s and resumed, the weights differ from an uninterrupted run"
    result 0 1
done
echo "FAIL: could not kill the trainer between its first and last epoch"
result 0 1
