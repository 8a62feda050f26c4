#!/bin/sh
# Data-parallel training over MPI (SPEC 6), on one machine with
# `mpirun --oversubscribe`:
#   - `nnc --mpi` and `mpicc -DNNC_MPI` on a plain file both build trainers
#     (gcc and clang, -std=c99 -pedantic -Werror); the plain file needs no MPI;
#   - with K = 1, 2, 3 ranks (sharing memory, and sending messages as ranks
#     on several machines do) the weights and history equal one process with
#     the same global batch (bit for bit, which is stronger than SPEC's
#     1e-5), with dropout, a validation split and --threads inside the ranks,
#     and with a model past the size the runtime splits among threads
#     (whose one-process weights are also the same for 1, 2 and 3 threads);
#   - loaded weights, and early stopping that restores the best weights,
#     give the same bytes as one process;
#   - two runs with the same K write the same bytes;
#   - a checkpoint written by 2 ranks resumes on 3 to the uninterrupted bytes;
#   - only rank 0 prints progress;
#   - a bad data file on one rank, and a rank killed with SIGKILL, end the
#     whole job non-zero within seconds with the failing rank's message;
#   - --emit=lib --mpi: nnc_main_comm on a communicator the program set up;
#   - --profile lists rank 0's kernels and the exchanges between ranks.
# Without mpirun or mpicc the suite says so loudly and exits 0.
set -u
NNC=${NNC:-build/nnc}
MPIRUN=${MPIRUN:-mpirun}
MPICC=${MPICC:-mpicc}
if ! command -v "$MPIRUN" >/dev/null 2>&1 || ! command -v "$MPICC" >/dev/null 2>&1; then
    msg="mpi: SKIPPED — '$MPIRUN' or '$MPICC' is not installed, so the MPI tests did not run (sh scripts/deps.sh installs Open MPI)"
    echo "$msg"
    echo "$msg" >&2
    exit 0
fi
# Open MPI refuses to run as root unless told; CI containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
result() { echo "mpi: $pass passed, $fail failed"; exit "$fail"; }
mpi() { timeout 120 "$MPIRUN" --oversubscribe --bind-to none "$@"; }

CFLAGS="-std=c99 -pedantic -Wall -Wextra -Werror -O2 -ffp-contract=off"
cancer=examples/data/cancer_train.csv
digits=examples/data/digits_train.csv

# ---- building ----
"$NNC" examples/cancer.nn -o "$tmp/cancer.c" &&
    "$NNC" examples/cancer.nn --mpi -o "$tmp/cancer_mpi.c" &&
    "$NNC" examples/digits.nn -o "$tmp/digits.c" || { bad "nnc"; result; }
cc $CFLAGS "$tmp/cancer.c" -o "$tmp/cancer" -lm -lpthread &&
    cc $CFLAGS "$tmp/digits.c" -o "$tmp/digits" -lm -lpthread || { bad "cc on plain files"; result; }
if grep -q '^#define NNC_MPI' "$tmp/cancer.c" || ! grep -q '^#define NNC_MPI' "$tmp/cancer_mpi.c"; then
    bad "--mpi, and only --mpi, defines NNC_MPI"
else ok; fi
"$MPICC" $CFLAGS "$tmp/cancer_mpi.c" -o "$tmp/cancer_mpi" -lm && ok || bad "mpicc on --mpi output"
OMPI_CC=clang "$MPICC" $CFLAGS "$tmp/cancer_mpi.c" -o "$tmp/cancer_mpi_clang" -lm && ok ||
    bad "mpicc (clang) on --mpi output"
"$MPICC" $CFLAGS -DNNC_MPI "$tmp/digits.c" -o "$tmp/digits_mpi" -lm && ok ||
    bad "mpicc -DNNC_MPI on a plain file"
[ -x "$tmp/cancer_mpi" ] && [ -x "$tmp/digits_mpi" ] || result
# --mpi is for the trainer's C: anything else is a usage error.
"$NNC" examples/cancer.nn --mpi --emit=ir -o /dev/null 2>/dev/null
[ $? -eq 2 ] && ok || bad "--mpi --emit=ir is not a usage error"
"$NNC" run --mpi examples/cancer.nn summary >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "nnc run --mpi is not a usage error"

# ---- K ranks equal one process ----
# cancer: dropout, validation split, early stopping; batch 100 is 4 chunks
# (32, 32, 32, 4): 3 ranks get 1, 1 and 2 of them.
ca="--epochs 15 --batch-size 100 --verbose 0"
# digits: 8 chunks per batch, 2 threads inside each rank.
da="--epochs 4 --batch-size 256 --verbose 0 --validation-split 0.2"
"$tmp/cancer" train $cancer $ca --save "$tmp/c1.st" --history "$tmp/c1.csv" &&
    "$tmp/digits" train $digits $da --save "$tmp/d1.st" --history "$tmp/d1.csv" || { bad "one process"; result; }
for k in 1 2 3; do
    mpi -np $k "$tmp/cancer_mpi" train $cancer $ca --save "$tmp/c$k.k.st" --history "$tmp/c$k.k.csv" ||
        bad "cancer, $k ranks: exit status $?"
    if cmp -s "$tmp/c1.st" "$tmp/c$k.k.st" && cmp -s "$tmp/c1.csv" "$tmp/c$k.k.csv"; then ok; else
        bad "cancer, $k ranks: weights or history differ from one process"; fi
    mpi -np $k "$tmp/digits_mpi" train $digits $da --threads 2 --save "$tmp/d$k.k.st" \
        --history "$tmp/d$k.k.csv" || bad "digits, $k ranks: exit status $?"
    if cmp -s "$tmp/d1.st" "$tmp/d$k.k.st" && cmp -s "$tmp/d1.csv" "$tmp/d$k.k.csv"; then ok; else
        bad "digits, $k ranks × 2 threads: weights or history differ from one process"; fi
done
# Ranks on one machine share the gradients and rows through an MPI window;
# ranks on several machines (or NNC_MPI_SHARED=0) send them: the same bytes.
for k in 2 3; do
    mpi -x NNC_MPI_SHARED=0 -np $k "$tmp/cancer_mpi" train $cancer $ca --save "$tmp/c$k.msg.st" \
        --history "$tmp/c$k.msg.csv" && cmp -s "$tmp/c1.st" "$tmp/c$k.msg.st" &&
        cmp -s "$tmp/c1.csv" "$tmp/c$k.msg.csv" && ok ||
        bad "cancer, $k ranks sending messages: weights or history differ from one process"
done
mpi -x NNC_MPI_SHARED=0 -np 2 "$tmp/digits_mpi" train $digits $da --threads 2 --save "$tmp/d2.msg.st" &&
    cmp -s "$tmp/d1.st" "$tmp/d2.msg.st" && ok ||
    bad "digits, 2 ranks sending messages: weights differ from one process"
# Weights loaded by every rank, and early stopping that stops and restores
# the best epoch's weights on every rank: on one machine the ranks keep one
# copy of the parameters, which all of them write then.
"$tmp/cancer" train $cancer --load "$tmp/c1.st" --epochs 300 --batch-size 100 --verbose 0 \
    --save "$tmp/l1.st" --history "$tmp/l1.csv" || bad "cancer, --load: exit status $?"
[ "$(wc -l <"$tmp/l1.csv")" -lt 301 ] && ok || bad "cancer, --load: early stopping did not stop"
for k in 2 3; do
    mpi -np $k "$tmp/cancer_mpi" train $cancer --load "$tmp/c1.st" --epochs 300 --batch-size 100 \
        --verbose 0 --save "$tmp/l$k.st" --history "$tmp/l$k.csv" &&
        cmp -s "$tmp/l1.st" "$tmp/l$k.st" && cmp -s "$tmp/l1.csv" "$tmp/l$k.csv" && ok ||
        bad "cancer, --load and early stopping, $k ranks: weights or history differ from one process"
done
# Under the sanitizers (make test-san) only nnc itself is instrumented:
# building and the equalities above are enough there.
[ "${MPI_QUICK:-0}" = 1 ] && result

# A model past RT_THREAD_MIN_FLOATS (64 -> 1100 -> 10: 82,610 parameters),
# with dropout: each rank folds and updates its segment, 2 threads inside.
cat >"$tmp/wide.nn" <<'EOF'
model wide {
    input x[8, 8]
    flatten()
    normalize(minmax)
    dense(1100, relu)
    dropout(0.2)
    dense(10, softmax)
}
compile {
    loss      = sparse_categorical_crossentropy
    optimizer = adam(learning_rate = 0.001)
    metrics   = [accuracy]
}
fit {
    epochs     = 2
    batch_size = 200
}
EOF
if "$NNC" "$tmp/wide.nn" -o "$tmp/wide.c" && cc $CFLAGS "$tmp/wide.c" -o "$tmp/wide" -lm -lpthread &&
    "$MPICC" $CFLAGS -DNNC_MPI "$tmp/wide.c" -o "$tmp/wide_mpi" -lm &&
    "$tmp/wide" train $digits --verbose 0 --save "$tmp/w1.st"; then
    # One process: the chunk gradients summed and updated by 2 and 3 threads.
    for t in 2 3; do
        "$tmp/wide" train $digits --verbose 0 --threads $t --save "$tmp/w1.t$t.st" &&
            cmp -s "$tmp/w1.st" "$tmp/w1.t$t.st" && ok || bad "82,610 parameters, --threads $t: weights differ from 1 thread"
    done
    for k in 2 3; do
        mpi -np $k "$tmp/wide_mpi" train $digits --verbose 0 --threads 2 --save "$tmp/w$k.st" &&
            cmp -s "$tmp/w1.st" "$tmp/w$k.st" && ok || bad "82,610 parameters, $k ranks: weights differ from one process"
    done
    mpi -x NNC_MPI_SHARED=0 -np 2 "$tmp/wide_mpi" train $digits --verbose 0 --save "$tmp/w2.msg.st" &&
        cmp -s "$tmp/w1.st" "$tmp/w2.msg.st" && ok ||
        bad "82,610 parameters, 2 ranks sending messages: weights differ from one process"
else bad "the 82,610-parameter model"; fi
# --profile under MPI: rank 0's kernels, and the exchanges between ranks.
mpi -np 2 "$tmp/digits_mpi" train $digits $da --no-save --profile >"$tmp/profile.out" 2>&1
for row in forward_backward update data "exchange (MPI)" "training steps:"; do
    [ "$(grep -c "^$row" "$tmp/profile.out")" = 1 ] && ok || bad "--profile, 2 ranks: no single '$row' row"
done
mpi -np 3 "$tmp/digits_mpi" train $digits $da --threads 2 --save "$tmp/d3.again.st" &&
    cmp -s "$tmp/d3.k.st" "$tmp/d3.again.st" && ok || bad "3 ranks, run to run: the weights differ"

# ---- resume across a change of K ----
"$tmp/cancer" train $cancer --batch-size 100 --verbose 0 --epochs 8 --save "$tmp/straight.st"
mpi -np 2 "$tmp/cancer_mpi" train $cancer --batch-size 100 --verbose 0 --epochs 4 \
    --checkpoint "$tmp/run.ckpt" --save "$tmp/half.st" &&
    mpi -np 3 "$tmp/cancer_mpi" train $cancer --batch-size 100 --verbose 0 --epochs 8 \
        --resume "$tmp/run.ckpt" --save "$tmp/resumed.st" &&
    cmp -s "$tmp/straight.st" "$tmp/resumed.st" && ok ||
    bad "a checkpoint of 2 ranks resumed on 3 differs from an uninterrupted run"

# ---- rank 0 prints ----
n=$(mpi -np 3 "$tmp/cancer_mpi" train $cancer --epochs 2 --batch-size 100 --verbose 2 \
    --save "$tmp/p.st" 2>/dev/null | grep -c '^Epoch 1/2')
[ "$n" = 1 ] && ok || bad "3 ranks printed 'Epoch 1/2' $n times (only rank 0 prints)"

# ---- failures end the job, never a hang ----
long="--epochs 1000000 --batch-size 100 --verbose 0 --validation-split 0"
sed '17s/^[^,]*,/abc,/' $cancer >"$tmp/bad.csv"
start=$(date +%s)
mpi -np 1 "$tmp/cancer_mpi" train $cancer $long --save "$tmp/f.st" : \
    -np 1 "$tmp/cancer_mpi" train "$tmp/bad.csv" $long --save "$tmp/f.st" >"$tmp/bad.out" 2>&1
rc=$? secs=$(($(date +%s) - start))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $secs -le 30 ] && grep -q 'bad.csv:17: column 1: not a number' "$tmp/bad.out" &&
    grep -q 'rank 1 of 2 failed' "$tmp/bad.out"; then ok; else
    bad "bad data on rank 1: exit status $rc after ${secs}s, output:"; cat "$tmp/bad.out"; fi

start=$(date +%s)
# The shell's pid becomes the trainer's (exec); rank 1 kills itself after 1 s.
mpi -np 2 sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then (sleep 1; kill -9 $$) & fi; exec "$@"' sh \
    "$tmp/cancer_mpi" train $cancer $long --save "$tmp/k.st" >"$tmp/kill.out" 2>&1
rc=$? secs=$(($(date +%s) - start))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $secs -le 30 ] && grep -q 'rank 1' "$tmp/kill.out"; then ok; else
    bad "rank 1 killed: exit status $rc after ${secs}s, output:"; cat "$tmp/kill.out"; fi

# ---- --emit=lib --mpi: the trainer on the program's own communicator ----
"$NNC" examples/cancer.nn --emit=lib --mpi -o "$tmp/lib.c" -H "$tmp/lib.h" || bad "--emit=lib --mpi"
cat >"$tmp/use.c" <<'EOF'
#include <mpi.h>
#include "lib.h"
#include "nnc_abi.h"
/* Ranks 0 and 1 of the world train together; the others sit it out. */
int main(int argc, char **argv) {
    int rank, rc = 0;
    MPI_Comm pair;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_split(MPI_COMM_WORLD, rank < 2 ? 0 : MPI_UNDEFINED, rank, &pair);
    if (pair != MPI_COMM_NULL) {
        rc = nnc_main_comm(cancer_descriptor(), pair, argc, argv);
        MPI_Comm_free(&pair);
    }
    MPI_Finalize();
    return rc;
}
EOF
"$MPICC" $CFLAGS -DNNC_MPI -Iruntime -I"$tmp" "$tmp/use.c" "$tmp/lib.c" -o "$tmp/use" -lm &&
    mpi -np 3 "$tmp/use" train $cancer $ca --save "$tmp/lib.st" &&
    cmp -s "$tmp/c1.st" "$tmp/lib.st" && ok || bad "nnc_main_comm on a 2-rank communicator"

result
