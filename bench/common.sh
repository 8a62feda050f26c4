# bench/common.sh — what the benchmark scripts share (sourced): the models
# A-E of ../shared/bench/README.md (and F) and how a trainer's rate is timed.
# shellcheck shell=sh

now() { date +%s.%N; }
calc() { echo "$*" | bc -l; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
json() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p"; }

# model: name layers act loss batch data nnc-epochs torch-epochs peer-epochs
# (nnc's epochs make about a second of training steps; the hand-written
# trainers' make a tenth of a second or more: 2 epochs of B, as they were
# run at first, took under a millisecond, and the BLAS trainer's rate on B
# moved by a quarter from run to run.)
model_A() { echo "mlp_30_30_15_1 30,30,15,1 relu bce 32 cancer_train.csv 10000 50 200"; }
model_B() { echo "mlp_64_32_10 64,32,10 relu ce 32 digits_train.csv 3000 15 100"; }
model_C() { echo "mlp_784_16_16_10 784,16,16,10 sigmoid ce 32 fashion_small_train.csv 100 2 5"; }
model_D() { echo "mlp_784_128_10 784,128,10 relu ce 128 fashion_small_train.csv 100 2 4"; }
model_E() { echo "mlp_784_512_512_10 784,512,512,10 relu ce 128 fashion_small_train.csv 8 1 2"; }
# F is not one of ../shared/bench's: a layer of 1.6 million weights, whose
# matmuls pack their weights (src/codegen/plan.c packs). bench/bench.sh F.
model_F() { echo "mlp_784_2048_10 784,2048,10 relu ce 128 fashion_small_train.csv 2 1 2"; }

# samples/s of a trainer over its training steps alone, as the peers time
# their training loop: --profile's last line (its clock reads cost nnc
# about 1% on the smallest model).
nnc_rate() { # trainer data epochs [threads]
    bin=$1 data=$2 epochs=$3 threads=${4:-$THREADS}
    profile_rate "$bin" train "$data" --epochs "$epochs" --verbose 0 --no-save --threads "$threads"
}

profile_rate() { # command... (with --profile added)
    "$@" --profile | sed -n 's/^training steps: .*wall, \([0-9]*\) samples\/s$/\1/p' | grep . ||
        { echo "bench: no training rate from $*" >&2; exit 1; }
}

# The one-way latency of a cache line between cores 0 and 1, in ns
# (bench/core_latency.c, built once into $work): data-parallel speedups
# follow it, and on a virtual machine it moves while the host moves the
# virtual CPUs (about 30 ns on cores sharing a cache, 170 across dies).
core_latency() {
    [ -x "$work/core_latency" ] || cc -std=c11 -O2 "$here/core_latency.c" -o "$work/core_latency" -lpthread ||
        { echo "bench: cannot build core_latency.c" >&2; exit 1; }
    "$work/core_latency"
}

params_of() { # 30,30,15,1 -> Σ (in + 1) · out
    echo "$1" | tr ',' '\n' | awk 'NR > 1 { p += (last + 1) * $1 } { last = $1 } END { print p }'
}
