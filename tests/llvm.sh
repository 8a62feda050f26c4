#!/bin/sh
# End-to-end tests of the LLVM backend (SPEC 5). For every examples/*.nn and
# every valid golden model (tests/golden/{ir,grad}/*.nn, with its `# flags:`):
#   - --emit=llvm and --emit=bc pass `opt-14 -passes=verify`;
#   - the kernels, JIT-compiled in f64 with FMA contraction (the default),
#     equal nnc's interpreter within 1e-6 relative (tests/llvm_harness.c,
#     the LLVM driver of tests/kernel_harness.c);
#   - `nnc run --fp-contract=off` and the C trainer (cc -std=c99 -O2
#     -march=native -ffp-contract=off: the target's vector instructions, as
#     LLVM's, and no contraction), same seed, 2 epochs, write the same
#     bytes: weights, loss history and predictions;
#   - --emit=exe reproduces `nnc run` exactly (weights, history, predictions);
#   - --emit=obj -H links with tests/llvm_main.c, which trains and predicts
#     through the header, and reproduces the executable's weights;
#   - `nnc run` works with a PATH holding no C compiler.
# For the examples also: --dtype=f64 executables and `nnc run --dtype=f64`
# pass gradcheck and train to the f64 C trainer's weights, bit for bit. Once:
# `make install PREFIX=<tmp>` and --emit=exe, -H objects and `nnc run` from
# the installed copy.
# Prints a line per failure and `llvm: N passed, N failed` at the end
# (tests/jobs.sh runs the models).
#   NNC=build/nnc BUILD=build tests/llvm.sh [MODEL.nn...]
# LLVM_QUICK=1 (the sanitizer run, whose point is nnc itself): six examples
# that cover every kind of kernel (dropout, a regularizer, explicit
# tensors, tiled products, several labels, plain SGD), f64 on cancer only,
# no determinism rerun.
SUITE=llvm
# shellcheck source=tests/jobs.sh
. "$(dirname "$0")/jobs.sh"
OPT=${OPT:-opt-14}
CC=${CC:-cc}
# The C backend's trainers, compiled as LLVM compiles with --fp-contract=off
# (NOFMA): for this machine (its vector square roots, its vector width), no
# contraction. LLVM's default, FMA, is checked against itself (exe = nnc run).
C_TRAINER="$CC -std=c99 -O2 -ffp-contract=off"
NOFMA=--fp-contract=off
$CC -march=native -E -x c /dev/null >/dev/null 2>&1 && C_TRAINER="$C_TRAINER -march=native"
# A sanitized build (make SAN=1) has sanitized libraries: programs linking
# them need the sanitizers' runtime.
SANFLAGS=""
nm "$BUILD/libnncrt.a" 2>/dev/null | grep -q __asan_init && SANFLAGS="-fsanitize=address,undefined"
[ "${LLVM_QUICK:-0}" = 1 ] && MODELS=$(for m in cancer diabetes explicit fashion multilabel perceptron; do
    echo "$ROOT/examples/$m.nn"; done)

# Largest relative difference (|a - b| / max(|a|, |b|, 1)) between the
# numbers of two CSV files of the same shape, header rows skipped.
numdiff() {
    awk -F, '
        NR == FNR { if ($1 ~ /^-?[0-9.]/) for (i = 1; i <= NF; i++) a[FNR, i] = $i; next }
        { if ($1 ~ /^-?[0-9.]/) for (i = 1; i <= NF; i++) {
              d = a[FNR, i] - $i; if (d < 0) d = -d
              s = a[FNR, i] < 0 ? -a[FNR, i] : a[FNR, i]; t = $i < 0 ? -$i : $i
              if (t > s) s = t; if (s < 1) s = 1
              if (d / s > worst) worst = d / s
          } }
        END { printf "max rel diff %.3e\n", worst }' "$1" "$2"
}

# Two trainers' PREFIX.st, PREFIX.hist and PREFIX.pred, byte for byte; when
# they differ, how far their losses and predictions are apart.
same_bytes() { # prefix, prefix
    cmp "$1.st" "$2.st" && cmp "$1.hist" "$2.hist" && cmp "$1.pred" "$2.pred" && return
    echo "loss history: $(numdiff "$1.hist" "$2.hist")"
    echo "predictions: $(numdiff "$1.pred" "$2.pred")"
    return 1
}

# The kernels-against-interpreter harness, linked with nnc's libraries.
jobs_prepare() {
    # shellcheck disable=SC2046,SC2086
    $CC -std=c11 -O1 -D_POSIX_C_SOURCE=200809L -I"$ROOT/src" -I"$ROOT/runtime" -I"$BUILD/grammar" \
        "$ROOT/tests/llvm_harness.c" "$ROOT/tests/kernel_harness.c" "$BUILD/libnncc.a" "$BUILD/libnncrt.a" \
        $(llvm-config-14 --ldflags) $(llvm-config-14 --libs) -lm -lpthread $SANFLAGS -o "$JOBS_TMP/llvm_harness"
}

one_model() {
    mkdir -p empty
    train() { # prefix, trainer command...: writes PREFIX.st, PREFIX.hist, PREFIX.pred
        p=$1
        shift
        "$@" train "$data" --epochs 2 --batch-size 16 --seed 7 --verbose 0 --save "$p.st" --history "$p.hist" &&
            "$@" predict "$data" --weights "$p.st" -o "$p.pred"
    }
    # shellcheck disable=SC2086
    run "--emit=llvm" "$NNC" -w $flags --emit=llvm "$src" -o m.ll &&
        run "opt -passes=verify (.ll)" "$OPT" -passes=verify -disable-output m.ll
    # shellcheck disable=SC2086
    run "--emit=bc" "$NNC" -w $flags --emit=bc "$src" -o m.bc &&
        run "opt -passes=verify (.bc)" "$OPT" -passes=verify -disable-output m.bc
    run "kernels = interpreter (f64 JIT)" "$JOBS_TMP/llvm_harness" "$src" "${level:--O2}"
    data="$ROOT/examples/data/${name}_train.csv"
    [ -f "$data" ] || { "$JOBS_TMP/llvm_harness" "$src" "${level:--O2}" --csv 48 >data.csv; data=data.csv; }
    # shellcheck disable=SC2086
    run "nnc run (PATH without cc)" env PATH="$dir/empty" "$NNC" run -w $flags "$src" summary
    # shellcheck disable=SC2086
    run "nnc run: train, predict" train jit "$NNC" run -w $flags "$src" || return
    # shellcheck disable=SC2086
    [ "${LLVM_QUICK:-0}" = 1 ] || run "nnc run: same seed, same weights" sh -c "'$NNC' run -w $flags '$src' train '$data' --epochs 2 \
        --batch-size 16 --seed 7 --verbose 0 --save again.st && cmp jit.st again.st"
    # shellcheck disable=SC2086
    run "nnc run $NOFMA: train, predict" train nofma "$NNC" run -w $flags $NOFMA "$src" || return
    # The C backend's trainer, same seed: the same bytes.
    # shellcheck disable=SC2086
    run "C trainer" sh -c "'$NNC' -w $flags '$src' -o m.c && $C_TRAINER m.c -o m-c -lm -lpthread" &&
        run "C trainer: train, predict" train c ./m-c &&
        run "LLVM $NOFMA = C -ffp-contract=off, bit for bit: weights, history, predictions" same_bytes c nofma
    # shellcheck disable=SC2086
    if run "--emit=exe" "$NNC" -w $flags --emit=exe "$src" -o m-exe && run "exe: train, predict" train exe ./m-exe
    then
        run "exe = nnc run" same_bytes exe jit
    fi
    # shellcheck disable=SC2086
    if run "--emit=obj -H" "$NNC" -w $flags --emit=obj "$src" -o m.o -H m.h; then
        model=$(sed -n 's/^extern const NncModel \(.*\)_model;$/\1/p' m.h)
        run "obj links with llvm_main.c" $CC -std=c99 -O1 -D_POSIX_C_SOURCE=200809L -I"$ROOT/runtime" -include m.h \
            -DOBJ_MODEL="${model}_model" -DOBJ_MAIN="${model}_main" "$ROOT/tests/llvm_main.c" m.o \
            "$BUILD/libnncrt.a" -lm -lpthread $SANFLAGS -o main &&
            run "obj: train, predict through the header" ./main "$data" obj.st obj.pred &&
            run "obj = exe" sh -c "cmp obj.st exe.st && cmp obj.pred exe.pred"
    fi
    # Under the sanitizers (LLVM_QUICK) every LLVM compile costs seconds:
    # f64 on one example is enough for nnc's f64 paths there.
    case "${LLVM_QUICK:-0}:$src" in
    0:*/examples/* | 1:*/examples/cancer.nn)
        # shellcheck disable=SC2086
        run "--emit=exe --dtype=f64" "$NNC" -w $flags $NOFMA --dtype=f64 --emit=exe "$src" -o m64 &&
            run "f64 exe: gradcheck" ./m64 gradcheck "$data" &&
            run "f64 exe: train" ./m64 train "$data" --epochs 2 --seed 3 --verbose 0 --save exe64.st
        # shellcheck disable=SC2086
        run "f64 C trainer = f64 exe" sh -c "'$NNC' -w $flags --dtype=f64 '$src' -o m64.c &&
            $C_TRAINER m64.c -o m64-c -lm -lpthread && ./m64-c train '$data' --epochs 2 --seed 3 \
            --verbose 0 --save c64.st && cmp c64.st exe64.st"
        # shellcheck disable=SC2086
        run "nnc run --dtype=f64: gradcheck" "$NNC" run -w $flags --dtype=f64 "$src" gradcheck "$data" &&
            run "nnc run --dtype=f64 = f64 exe" sh -c "'$NNC' run -w $flags $NOFMA --dtype=f64 '$src' train '$data' \
                --epochs 2 --seed 3 --verbose 0 --save jit64.st && cmp jit64.st exe64.st"
        ;;
    esac
}

# ---- once: make install into a temporary prefix, used from there ----
jobs_after() {
    label=install
    prefix=$JOBS_TMP/prefix
    dir=$JOBS_TMP/installed
    mkdir -p "$dir/empty" && cd "$dir" || return
    # BUILD as the Makefile spells it (relative to the root): an absolute
    # spelling names other targets, and the rebuilt objects' dependency
    # files would then no longer tie them to their headers.
    # shellcheck disable=SC2086
    run "make install PREFIX=..." make -s -C "$ROOT" install BUILD="${BUILD#"$ROOT"/}" PREFIX="$prefix" \
        ${SANFLAGS:+SAN=1} || return
    run "installed files" test -x "$prefix/bin/nnc" -a -f "$prefix/lib/libnncrt.a" -a -f "$prefix/lib/libnncrt_f64.a" \
        -a -f "$prefix/include/nnc_abi.h"
    data="$ROOT/examples/data/iris_train.csv"
    run "installed --emit=exe" "$prefix/bin/nnc" "$ROOT/examples/iris.nn" --emit=exe -o iris &&
        run "installed exe trains" ./iris train "$data" --epochs 2 --verbose 0 --seed 3 --save exe.st
    run "installed nnc run" env PATH="$dir/empty" "$prefix/bin/nnc" run "$ROOT/examples/iris.nn" train "$data" \
        --epochs 2 --verbose 0 --seed 3 --save jit.st && run "installed: exe = nnc run" cmp exe.st jit.st
    run "installed --emit=obj -H" "$prefix/bin/nnc" "$ROOT/examples/iris.nn" --emit=obj -o iris.o -H iris.h &&
        run "installed obj links" $CC -std=c99 -D_POSIX_C_SOURCE=200809L -I"$prefix/include" -include iris.h \
            -DOBJ_MODEL=iris_model -DOBJ_MAIN=iris_main "$ROOT/tests/llvm_main.c" iris.o "$prefix/lib/libnncrt.a" \
            -lm -lpthread $SANFLAGS -o main &&
        run "installed obj runs" ./main "$data" obj.st obj.pred
}

jobs_main "$@"
