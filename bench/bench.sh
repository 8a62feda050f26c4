#!/bin/sh
# nnc's benchmark (make bench): training samples/s of the generated trainer
# against PyTorch on the CPU, same architecture, data, batch size, optimizer
# (adam) and thread count, run back to back; printed as ratios. Also the
# time from .nn to a ready trainer (nnc + cc -O2) and the latency of
# --emit=infer at batch 1. A second table sets the LLVM backend (SPEC 5)
# beside the C backend: time from .nn to a ready trainer for `nnc run` (JIT
# compile, measured as `nnc run M.nn summary`), --emit=exe, and --emit=c +
# cc -O2 -march=native; training samples/s of the LLVM kernels and of the C
# kernels, run back to back, and PyTorch's from the first table. The LLVM
# kernels are timed in the --emit=exe trainer: the code `nnc run` runs,
# without its compile time to subtract.
#   NNC=build/nnc DATA=../shared/data THREADS=1 EPOCHS=... bench/bench.sh
set -eu
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
DATA=$(cd "${DATA:-../shared/data}" && pwd)
THREADS=${THREADS:-1}
CC=${CC:-cc}
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

# name data epochs: one row of the table
row() {
    name=$1 data=$2 epochs=$3
    model=$here/models/$name.nn
    sizes=$(sed -n 's/^# [a-z0-9_]*: the benchmark.s \([0-9-]*\) network.*/\1/p' "$model")
    batch=$(sed -n 's/^ *batch_size *= *\([0-9]*\)/\1/p' "$model")
    loss=bce
    grep -q softmax "$model" && loss=sce
    rows=$(($(wc -l <"$data") - 1))

    t0=$(now)
    "$NNC" "$model" -o "$work/$name.c"
    $CC -O2 -march=native "$work/$name.c" -o "$work/$name" -lm -lpthread
    t1=$(now)
    compile=$(elapsed "$t0" "$t1")

    # Loading and normalization statistics are timed apart (--epochs 0) and
    # subtracted, as PyTorch's loop is timed without them.
    t0=$(now); "$work/$name" train "$data" --epochs 0 --verbose 0 --threads "$THREADS" >/dev/null; t1=$(now)
    "$work/$name" train "$data" --epochs "$epochs" --verbose 0 --threads "$THREADS" >/dev/null; t2=$(now)
    load=$(elapsed "$t0" "$t1")
    train=$(echo "$(elapsed "$t1" "$t2") - $load" | bc -l)
    nnc_rate=$(echo "$epochs * $rows / $train" | bc -l)
    torch_rate=$("$PYTHON" "$here/torch_mlp.py" "$data" "$sizes" "$loss" "$batch" "$epochs" "$THREADS")
    echo "$torch_rate" >"$work/$name.torch"
    ratio=$(echo "$nnc_rate / $torch_rate" | bc -l)

    "$work/$name" train "$data" --epochs 1 --verbose 0 --save "$work/$name.safetensors" >/dev/null
    "$NNC" "$model" --emit=infer --weights "$work/$name.safetensors" -o "$work/${name}_infer.c" -H "$work/${name}_infer.h"
    n_in=${sizes%%-*}
    n_out=${sizes##*-}
    cat >"$work/${name}_lat.c" <<C
#include <stdio.h>
#include <time.h>
#include "${name}_infer.h"
int main(void) {
    static float x[$n_in], y[$n_out];
    struct timespec a, b;
    long reps = 200000 / $n_in + 1000;
    for (int i = 0; i < $n_in; i++) x[i] = (float)(i % 7) / 7.0f;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long r = 0; r < reps; r++) { x[r % $n_in] += 1e-6f; ${name}_predict(x, y); }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.3f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / reps + y[0] * 0);
    return 0;
}
C
    $CC -O2 -march=native -I"$work" "$work/${name}_lat.c" "$work/${name}_infer.c" -o "$work/${name}_lat" -lm
    latency=$("$work/${name}_lat")
    printf '| %-18s | %5s | %12.0f | %12.0f | %6.2fx | %8.2f s | %8.2f us |\n' \
        "$sizes" "$batch" "$nnc_rate" "$torch_rate" "$ratio" "$compile" "$latency"
}

echo "threads: $THREADS; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
echo "| network            | batch | nnc samples/s | torch samples/s | nnc/torch | nnc+cc -O2 | infer batch 1 |"
echo "|--------------------|-------|---------------|-----------------|-----------|------------|---------------|"
row mlp_30_30_15_1 "$DATA/cancer_train.csv" "${EPOCHS_SMALL:-200}"
row mlp_64_32_10 "$DATA/digits_train.csv" "${EPOCHS_SMALL:-60}"
row mlp_784_16_16_10 "$DATA/mnist_train.csv" "${EPOCHS_LARGE:-5}"
row mlp_784_128_10 "$DATA/mnist_train.csv" "${EPOCHS_LARGE:-5}"
row mlp_784_512_512_10 "$DATA/mnist_train.csv" "${EPOCHS_HUGE:-2}"

# seconds: the time of "$@" (any output discarded)
timed() {
    t0=$(now)
    "$@" >/dev/null
    t1=$(now)
    elapsed "$t0" "$t1"
}

# the least of three timings of "$@"
best_of_3() {
    a=$(timed "$@")
    b=$(timed "$@")
    c=$(timed "$@")
    echo "if ($a < $b) { if ($a < $c) $a else $c } else { if ($b < $c) $b else $c }" | bc -l
}

# samples/s of a trainer command over data and epochs: the run with
# --epochs 0 (loading, statistics) subtracted, as above; best of three
# each, for small networks train in milliseconds.
rate() {
    data=$1 epochs=$2
    shift 2
    rows=$(($(wc -l <"$data") - 1))
    setup=$(best_of_3 "$@" train "$data" --epochs 0 --verbose 0 --threads "$THREADS")
    total=$(best_of_3 "$@" train "$data" --epochs "$epochs" --verbose 0 --threads "$THREADS")
    echo "$epochs * $rows / ($total - $setup)" | bc -l
}

# name data epochs: one row of the LLVM table
llvm_row() {
    name=$1 data=$2 epochs=$3
    model=$here/models/$name.nn
    sizes=$(sed -n 's/^# [a-z0-9_]*: the benchmark.s \([0-9-]*\) network.*/\1/p' "$model")
    batch=$(sed -n 's/^ *batch_size *= *\([0-9]*\)/\1/p' "$model")
    jit=$(timed "$NNC" run "$model" summary)
    exe=$(timed "$NNC" "$model" --emit=exe -o "$work/${name}_exe")
    c=$(timed sh -c "'$NNC' '$model' -o '$work/$name.c' && $CC -O2 -march=native '$work/$name.c' -o '$work/$name' -lm -lpthread")
    c_rate=$(rate "$data" "$epochs" "$work/$name")
    llvm_rate=$(rate "$data" "$epochs" "$work/${name}_exe")
    torch_rate=$(cat "$work/$name.torch" 2>/dev/null || echo 0)
    printf '| %-18s | %5s | %11.2f s | %8.2f s | %15.2f s | %14.0f | %11.0f | %5.2fx | %15.0f |\n' \
        "$sizes" "$batch" "$jit" "$exe" "$c" "$llvm_rate" "$c_rate" "$(echo "$llvm_rate / $c_rate" | bc -l)" "$torch_rate"
}

echo
echo "LLVM backend: time from .nn to a ready trainer, and training samples/s"
echo
echo "| network            | batch | nnc run (JIT) | --emit=exe | --emit=c + cc -O2 | LLVM samples/s | C samples/s | LLVM/C | torch samples/s |"
echo "|--------------------|-------|---------------|------------|-------------------|----------------|-------------|--------|-----------------|"
llvm_row mlp_30_30_15_1 "$DATA/cancer_train.csv" "${EPOCHS_SMALL:-200}"
llvm_row mlp_64_32_10 "$DATA/digits_train.csv" "${EPOCHS_SMALL:-60}"
llvm_row mlp_784_16_16_10 "$DATA/mnist_train.csv" "${EPOCHS_LARGE:-5}"
llvm_row mlp_784_128_10 "$DATA/mnist_train.csv" "${EPOCHS_LARGE:-5}"
llvm_row mlp_784_512_512_10 "$DATA/mnist_train.csv" "${EPOCHS_HUGE:-2}"
