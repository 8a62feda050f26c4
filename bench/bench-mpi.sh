#!/bin/sh
# make bench-mpi: the speedup of data-parallel training (SPEC 6) on this
# machine. Model E of ../shared/bench/README.md (784-512-512-10, batch 128,
# adam) trains on fashion_small_train.csv under `mpirun -np K` for K = 1
# and K = RANKS (default 2), one thread per rank; training samples/s and
# the speedup over K = 1, over the training steps alone (--profile's
# rate: loading the CSV and starting MPI are not timed), as bench.sh
# does. Runs alternate K, REPEAT
# times (default 3); the median of each is printed, and the latency
# between cores 0 and 1 before each pair (bench/core_latency.c): the ranks
# exchange every step's gradients and parameters, so the speedup follows
# it. Take the figure on a quiet machine (check `uptime`).
#   NNC=build/nnc DATA=../shared/data EPOCHS=3 RANKS=2 REPEAT=3 bench/bench-mpi.sh
set -eu
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
DATA=$(cd "${DATA:-../shared/data}" && pwd)
EPOCHS=${EPOCHS:-8}
RANKS=${RANKS:-2}
REPEAT=${REPEAT:-3}
MPIRUN=${MPIRUN:-mpirun}
MPICC=${MPICC:-mpicc}
here=$(cd "$(dirname "$0")" && pwd)
for tool in "$MPIRUN" "$MPICC"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench-mpi: $tool not found (sh scripts/deps.sh installs Open MPI)" >&2; exit 1; }
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/common.sh"

model=$here/models/mlp_784_512_512_10.nn
data=$DATA/fashion_small_train.csv
rows=$(($(wc -l <"$data") - 1))
"$NNC" "$model" --mpi -o "$work/e.c"
"$MPICC" -O2 -march=native "$work/e.c" -o "$work/e" -lm
echo "bench-mpi: model E (784-512-512-10, batch 128), $rows rows x $EPOCHS epochs, 1 thread per rank, $(nproc) cores, load:$(uptime | sed 's/.*load average://')"
# K: training samples/s under mpirun -np K.
rate() {
    profile_rate "$MPIRUN" --oversubscribe -np "$1" "$work/e" train "$data" --epochs "$EPOCHS" \
        --verbose 0 --save "$work/w$1.st"
}
i=0 lat=""
while [ $i -lt "$REPEAT" ]; do
    lat="$lat $(core_latency)"
    rate 1 >>"$work/k1"
    rate "$RANKS" >>"$work/kn"
    i=$((i + 1))
done
cmp -s "$work/w1.st" "$work/w$RANKS.st" || { echo "bench-mpi: $RANKS ranks did not reproduce 1 rank's weights" >&2; exit 1; }
one=$(median <"$work/k1")
many=$(median <"$work/kn")
printf '| ranks | samples/s | speedup |\n|---|---|---|\n'
printf '| 1 | %.0f | 1.00x |\n' "$one"
printf '| %d | %.0f | %.2fx |\n' "$RANKS" "$many" "$(echo "$many / $one" | bc -l)"
echo "core-to-core latency before each pair (ns):$lat"
