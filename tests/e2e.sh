#!/bin/sh
# End-to-end tests of the C backend. For every examples/*.nn and every
# valid golden model (tests/golden/{ir,grad}/*.nn, with its `# flags:`):
#   - nnc emits the trainer in f32 and f64; gcc compiles each under
#     -std=c99 -Wall -Wextra -pedantic -Werror, linking only -lm (the f64
#     one without GNU C vectors: -DNNC_NO_VECTORS), and clang
#     checks each under the same flags;
#   - ./model summary; a short train on examples/data/<model>_train.csv or
#     on synthetic rows that fit the model's loss; gradcheck in f64;
#   - the f64 kernels against nnc's interpreter, within 1e-6 relative, and
#     the library's API (--emit=lib, tests/e2e_harness.c, the C driver of
#     tests/kernel_harness.c);
#   - the same seed twice gives identical weight files;
#   - --emit=infer with the trained weights equals `predict` within 1e-6
#     relative (tests/e2e_infer.c).
# Prints a line per failure and `e2e: N passed, N failed` at the end
# (tests/jobs.sh runs the models).
#   NNC=build/nnc BUILD=build tests/e2e.sh [MODEL.nn...]
# E2E_QUICK=1 (the sanitizer run, whose point is nnc itself): the examples
# only (they cover every kind of kernel), no clang, the f32 trainer at -O1
# only, no f64 gradcheck and no determinism rerun.
# HARNESS_FLAGS: extra flags for the harness, which links nnc's library
# (the sanitizer flags when nnc was built with them).
SUITE=e2e
# shellcheck source=tests/jobs.sh
. "$(dirname "$0")/jobs.sh"
STRICT="-std=c99 -Wall -Wextra -pedantic -Werror"
[ "${E2E_QUICK:-0}" = 1 ] && MODELS=$(ls "$ROOT"/examples/*.nn)
HARNESS_CFLAGS="-std=c11 -O1 ${HARNESS_FLAGS:-} -D_POSIX_C_SOURCE=200809L -I$ROOT/src -I$ROOT/runtime -I$BUILD/grammar"

# The model-independent part of the harness, compiled once.
jobs_prepare() {
    # shellcheck disable=SC2086
    gcc $HARNESS_CFLAGS -c "$ROOT/tests/kernel_harness.c" -o "$JOBS_TMP/kernel_harness.o"
}

one_model() {
    # shellcheck disable=SC2086
    run "nnc --emit=c (f32)" "$NNC" -w $flags "$src" -o m32.c || return
    # shellcheck disable=SC2086
    run "nnc --emit=c (f64)" "$NNC" -w $flags --dtype=f64 "$src" -o m64.c || return
    if [ "${E2E_QUICK:-0}" = 1 ]; then
        # Only what runs: the f32 trainer (the f64 one serves gradcheck).
        # shellcheck disable=SC2086
        run "gcc f32" gcc $STRICT -O1 m32.c -o m32-gcc -lm
    else
        # shellcheck disable=SC2086
        run "gcc f32" gcc $STRICT -O2 m32.c -o m32-gcc -lm
        # The f64 trainer only serves gradcheck on small models: -O0 halves
        # its compile time, the suite's largest cost. It is built without
        # GNU C vectors, so that gradcheck runs the plain C that every vector
        # chunk and transposed tile has after its #else (the harness and the
        # f32 trainer run the vectors).
        # shellcheck disable=SC2086
        run "gcc f64" gcc $STRICT -O0 -DNNC_NO_VECTORS m64.c -o m64-gcc -lm
    fi
    # clang's warnings are its front end's: checking the files is enough
    # (gcc's programs are the ones run).
    if [ "${E2E_QUICK:-0}" != 1 ] && command -v clang >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        run "clang f32" clang $STRICT -fsyntax-only m32.c
        # shellcheck disable=SC2086
        run "clang f64" clang $STRICT -fsyntax-only m64.c
    fi
    [ -x m32-gcc ] || return
    run "summary" ./m32-gcc summary
    # The kernels against the interpreter.
    # shellcheck disable=SC2086
    run "nnc --emit=lib (f64)" "$NNC" -w $flags --dtype=f64 --emit=lib "$src" -o lib64.c -H lib64.h &&
        run "lib compiles" gcc $STRICT -O0 -c lib64.c -o lib64.o &&
        run "harness links" gcc $HARNESS_CFLAGS -DNNC_LIB_GENERIC -include lib64.h "$ROOT/tests/e2e_harness.c" \
            "$JOBS_TMP/kernel_harness.o" lib64.o "$BUILD/libnncc.a" -lm -lpthread -o harness || return
    # shellcheck disable=SC2086
    harness() { env ASAN_OPTIONS=detect_leaks=0 ./harness "$src" ${level:--O2} "$@"; }
    run "kernels = interpreter (f64)" harness
    data="$ROOT/examples/data/${name}_train.csv"
    [ -f "$data" ] || { harness --csv 48 >data.csv; data=data.csv; }
    train() { ./m32-gcc train "$data" --epochs 2 --batch-size 16 --seed 7 --verbose 0 --save "$1"; }
    run "train" train w.safetensors || return
    [ "${E2E_QUICK:-0}" = 1 ] || run "gradcheck (f64)" ./m64-gcc gradcheck "$data"
    [ "${E2E_QUICK:-0}" = 1 ] || run "same seed, same weights" sh -c "./m32-gcc train '$data' --epochs 2 --batch-size 16 --seed 7 --verbose 0 --save w2.safetensors && cmp w.safetensors w2.safetensors"
    # shellcheck disable=SC2086
    run "nnc --emit=infer" "$NNC" -w $flags --emit=infer --weights w.safetensors "$src" -o infer.c -H infer.h &&
        run "infer compiles" gcc $STRICT -O2 -c infer.c -o infer.o &&
        run "predict" ./m32-gcc predict "$data" --weights w.safetensors -o pred.csv &&
        run "infer links" gcc -std=c99 -O1 -DNNC_INFER_GENERIC -include infer.h "$ROOT/tests/e2e_infer.c" infer.o \
            -o infer_check -lm &&
        run "infer = predict" ./infer_check "$data" pred.csv
}

jobs_main "$@"
