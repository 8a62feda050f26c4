#!/bin/sh
# make bench: training speed of nnc against the programs a user would
# otherwise pick, on models A-E of ../shared/bench/README.md, in one run:
#   nnc C      the generated trainer, cc -O2 -march=native
#   nnc LLVM   the same model through --emit=exe (the kernels `nnc run` runs)
#   torch      PyTorch eager on the CPU (bench/torch_mlp.py)
#   hand C     ../shared/bench/c_mlp_ref.c, plain (c_mlp_naive)
#   hand BLAS  the same on OpenBLAS sgemm (c_mlp_blas)
# Same layers, activation, loss, batch size, Adam and thread count. The
# programs alternate within each repetition; each figure is the median of
# REPS repetitions (at least 3). Printed: training samples/s, the ratios
# nnc/BLAS and nnc/torch, and nnc's FLOP rate (6 x parameters x samples/s)
# as a share of the FMA peak measured by ../shared/bench/fma_peak; the load
# average before and after (a figure taken on a loaded machine is no
# figure: check that both are near 0). Then inference: --emit=infer at
# batch 1 and 256 rows against the hand-written C and its BLAS build,
# alternated and REPS times too, medians.
#   NNC=build/nnc SHARED=../shared REPS=3 THREADS=1 bench/bench.sh [A B C D E] [F]
# (F, a 784-2048-10 network, is not among ../shared/bench's models: only when named)
set -eu
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
here=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "${SHARED:-$here/../../shared}" && pwd)
REPS=${REPS:-3}
THREADS=${THREADS:-1}
CC=${CC:-cc}
PYTHON=${PYTHON:-/usr/bin/python3}
[ "$REPS" -ge 3 ] || { echo "bench: REPS must be at least 3" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"

. "$here/common.sh"

make -s -C "$SHARED/bench" OUT="$work/peers" >/dev/null
# "zmm (AVX-512)  1 thread(s):   168.2 GFLOP/s ...": the best vector width's figure
peak=$("$work/peers/fma_peak" | awk -v t="$THREADS" '$3 == t && $4 == "thread(s):" && $5 > best { best = $5 } END { print best }')


echo "nnc benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); threads: $THREADS; repetitions: $REPS (medians)"
echo "FMA peak (../shared/bench/fma_peak, $THREADS thread(s)): $peak GFLOP/s"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Training, samples/s:"
echo
echo "| model | layers | batch | nnc C | nnc LLVM | torch | hand C | hand C+BLAS | nnc/BLAS | nnc/torch | LLVM/C | nnc % of peak |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
infer_rows=""
for letter in ${*:-A B C D E}; do
    set -- $(model_$letter)
    name=$1 layers=$2 act=$3 loss=$4 batch=$5 data=$SHARED/data/$6 epochs=$7 tepochs=$8 pepochs=$9
    rows=$(($(wc -l <"$data") - 1))
    model=$here/models/$name.nn
    "$NNC" -w "$model" -o "$work/$name.c"
    $CC -O2 -march=native "$work/$name.c" -o "$work/$name" -lm -lpthread
    "$NNC" -w "$model" --emit=exe -o "$work/${name}_llvm"
    tloss=sce
    [ "$loss" = bce ] && tloss=bce
    c="" l="" t="" h="" b=""
    rep=0
    while [ $rep -lt "$REPS" ]; do
        c="$c $(nnc_rate "$work/$name" "$data" "$epochs")"
        l="$l $(nnc_rate "$work/${name}_llvm" "$data" "$epochs")"
        t="$t $("$PYTHON" "$here/torch_mlp.py" "$data" "$(echo "$layers" | tr , -)" "$tloss" "$batch" "$tepochs" "$THREADS" "$act")"
        h="$h $("$work/peers/c_mlp_naive" --layers "$layers" --act "$act" --loss "$loss" --batch "$batch" --epochs "$pepochs" --n "$rows" --infer-min-time 0 | json train_sps)"
        b="$b $("$work/peers/c_mlp_blas" --layers "$layers" --act "$act" --loss "$loss" --batch "$batch" --epochs "$pepochs" --n "$rows" --infer-min-time 0 | json train_sps)"
        rep=$((rep + 1))
    done
    c=$(echo "$c" | median) l=$(echo "$l" | median) t=$(echo "$t" | median)
    h=$(echo "$h" | median) b=$(echo "$b" | median)
    pct=$(calc "6 * $(params_of "$layers") * $c / ($peak * 10^9) * 100")
    printf '| %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.2fx | %.2fx | %.2f | %.1f %% |\n' \
        "$letter" "$(echo "$layers" | tr , -)" "$batch" "$c" "$l" "$t" "$h" "$b" "$(calc "$c / $b")" \
        "$(calc "$c / $t")" "$(calc "$l / $c")" "$pct"

    # Inference: the trained weights baked in; batch 1 latency, 256-row throughput.
    "$work/$name" train "$data" --epochs 1 --verbose 0 --save "$work/$name.safetensors" >/dev/null
    "$NNC" -w "$model" --emit=infer --weights "$work/$name.safetensors" -o "$work/${name}_infer.c" \
        -H "$work/${name}_infer.h"
    n_in=${layers%%,*} n_out=${layers##*,}
    cat >"$work/${name}_lat.c" <<C
#include <stdio.h>
#include <time.h>
#include "${name}_infer.h"
static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static float x[256 * $n_in], y[256 * $n_out];
/* Microseconds per row of predict_batch over n rows: 20 calls to warm
** up, then calls for at least 0.3 s, as the peers measure. */
static double per_row(int n) {
    long calls = 0, r;
    double t0, dt;
    for (r = 0; r < 20; r++) ${name}_predict_batch(x, y, n);
    t0 = seconds();
    do {
        for (r = 0; r < 16; r++) { x[(calls + r) % $n_in] += 1e-6f; ${name}_predict_batch(x, y, n); }
        calls += 16;
        dt = seconds() - t0;
    } while (dt < 0.3);
    return dt / calls / n * 1e6;
}
int main(void) {
    long r;
    double b1, b256;
    for (r = 0; r < 256 * $n_in; r++) x[r] = (float)(r % 7) / 7.0f;
    b1 = per_row(1);
    b256 = per_row(256);
    printf("%.4f %.4f %g\n", b1, b256, (double)y[0] * 0);
    return 0;
}
C
    $CC -O2 -march=native -I"$work" "$work/${name}_lat.c" "$work/${name}_infer.c" -o "$work/${name}_lat" -lm
    # Alternated like the training rates, REPS times, medians.
    n1="" n256="" h1="" b256="" rep=0
    while [ $rep -lt "$REPS" ]; do
        set -- $("$work/${name}_lat")
        n1="$n1 $1" n256="$n256 $2"
        h1="$h1 $("$work/peers/c_mlp_naive" --layers "$layers" --act "$act" --loss "$loss" --batch "$batch" --epochs 1 --n "$rows" --infer-min-time 0.3 | json infer_b1_us)"
        b256="$b256 $("$work/peers/c_mlp_blas" --layers "$layers" --act "$act" --loss "$loss" --batch "$batch" --epochs 1 --n "$rows" --infer-min-time 0.3 | json infer_b256_us_per_sample)"
        rep=$((rep + 1))
    done
    infer_rows="$infer_rows$(printf '| %s | %.3f | %.3f | %.4f | %.4f |' "$letter" "$(echo "$n1" | median)" \
        "$(echo "$h1" | median)" "$(echo "$n256" | median)" "$(echo "$b256" | median)")
"
done
echo
echo "Inference (--emit=infer), microseconds, medians of $REPS:"
echo
echo "| model | nnc batch 1 | hand C batch 1 | nnc 256 rows, per row | hand C+BLAS 256 rows, per row |"
echo "|---|---|---|---|---|"
printf '%s' "$infer_rows"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
