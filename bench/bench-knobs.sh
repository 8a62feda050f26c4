#!/bin/sh
# make bench-knobs: how much nnc's training speed depends on what the user
# picks, on models A-E of ../shared/bench/README.md:
#   compilers  the same generated C under gcc -O2, gcc -O3, clang -O2 and
#              clang -O3 (each -march=native), and the LLVM backend's
#              --emit=exe; the spread (slowest over fastest) and each
#              against LLVM;
#   threads    --threads 2 over --threads 1 (the C trainer, gcc -O2), on
#              the models named in THREAD_MODELS (default D E), with
#              the latency between the two cores before each repetition
#              (bench/core_latency.c), which the speedup follows.
# Programs alternate within each repetition; figures are medians of REPS
# (at least 3). Take them on a quiet machine: the load average is printed
# before and after.
#   NNC=build/nnc SHARED=../shared REPS=3 bench/bench-knobs.sh [A B C D E]
set -eu
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
here=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "${SHARED:-$here/../../shared}" && pwd)
REPS=${REPS:-3}
THREADS=1
THREAD_MODELS=${THREAD_MODELS:-D E}
[ "$REPS" -ge 3 ] || { echo "bench-knobs: REPS must be at least 3" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/common.sh"

builds="gcc-O2 gcc-O3 clang-O2 clang-O3 llvm"
echo "nnc bench-knobs, $(date -u '+%Y-%m-%d %H:%M UTC'); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); repetitions: $REPS (medians)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Training samples/s by compiler (1 thread):"
echo
echo "| model | gcc -O2 | gcc -O3 | clang -O2 | clang -O3 | LLVM exe | slowest/fastest C | C/LLVM, worst | C/LLVM, best |"
echo "|---|---|---|---|---|---|---|---|---|"
for letter in ${*:-A B C D E}; do
    set -- $(model_$letter)
    name=$1 data=$SHARED/data/$6 epochs=$7
    "$NNC" -w "$here/models/$name.nn" -o "$work/$name.c"
    for b in $builds; do
        case $b in
        llvm) "$NNC" -w "$here/models/$name.nn" --emit=exe -o "$work/$name-$b" ;;
        *) ${b%-*} -${b#*-} -march=native "$work/$name.c" -o "$work/$name-$b" -lm -lpthread ;;
        esac
        eval "r_$(echo $b | tr - _)=''"
    done
    rep=0
    while [ $rep -lt "$REPS" ]; do
        for b in $builds; do
            v=$(echo $b | tr - _)
            eval "r_$v=\"\$r_$v \$(nnc_rate \"$work/$name-$b\" \"$data\" \"$epochs\" 1)\""
        done
        rep=$((rep + 1))
    done
    m=""
    for b in $builds; do
        v=$(echo $b | tr - _)
        eval "m_$v=\$(echo \"\$r_$v\" | median)"
        eval "m=\"\$m \$m_$v\""
    done
    lo=$(echo "$m_gcc_O2 $m_gcc_O3 $m_clang_O2 $m_clang_O3" | tr ' ' '\n' | sort -g | head -1)
    hi=$(echo "$m_gcc_O2 $m_gcc_O3 $m_clang_O2 $m_clang_O3" | tr ' ' '\n' | sort -g | tail -1)
    printf '| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |\n' "$letter" $m \
        "$(calc "$lo / $hi")" "$(calc "$lo / $m_llvm")" "$(calc "$hi / $m_llvm")"
done
echo
echo "Training samples/s by thread count (gcc -O2 -march=native):"
echo
echo "| model | --threads 1 | --threads 2 | 2 over 1 | core-to-core ns |"
echo "|---|---|---|---|---|"
for letter in $THREAD_MODELS; do
    set -- $(model_$letter)
    name=$1 data=$SHARED/data/$6 epochs=$7
    one="" two="" lat="" rep=0
    while [ $rep -lt "$REPS" ]; do
        lat="$lat $(core_latency)"
        one="$one $(nnc_rate "$work/$name-gcc-O2" "$data" "$epochs" 1)"
        two="$two $(nnc_rate "$work/$name-gcc-O2" "$data" "$epochs" 2)"
        rep=$((rep + 1))
    done
    lat_all=$(echo "$lat" | sed 's/^ //; s/ /, /g')
    one=$(echo "$one" | median) two=$(echo "$two" | median)
    printf '| %s | %.0f | %.0f | %.2fx | %s |\n' "$letter" "$one" "$two" "$(calc "$two / $one")" "$lat_all"
done
echo
echo "(core-to-core: bench/core_latency.c before each repetition; the two threads"
echo "exchange every step's gradients and parameters, slowly when it is far above 30 ns.)"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
