#!/bin/sh
# End-to-end tests of the C backend. For every examples/*.nn and every
# valid golden model (tests/golden/{ir,grad}/*.nn, with its `# flags:`):
#   - nnc emits the trainer in f32 and f64; gcc and clang compile each under
#     -std=c99 -Wall -Wextra -pedantic -Werror, linking only -lm;
#   - ./model summary; a short train on examples/data/<model>_train.csv or
#     on synthetic rows that fit the model's loss; gradcheck in f64;
#   - the f64 kernels against nnc's interpreter, within 1e-6 relative
#     (--emit=lib and tests/e2e_harness.c);
#   - the same seed twice gives identical weight files;
#   - --emit=infer with the trained weights equals `predict` within 1e-6
#     relative (tests/e2e_infer.c).
# Prints a line per failure and `e2e: N passed, N failed` at the end.
#   NNC=build/nnc BUILD=build tests/e2e.sh [MODEL.nn...]
# E2E_QUICK=1 (the sanitizer run, whose point is nnc itself): gcc only, no
# f64 gradcheck and no determinism rerun.
# HARNESS_FLAGS: extra flags for the harness, which links nnc's library
# (the sanitizer flags when nnc was built with them).
set -u
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
BUILD=$(cd "${BUILD:-$(dirname "$NNC")}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STRICT="-std=c99 -Wall -Wextra -pedantic -Werror"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# ---- one model: prints PASS/FAIL lines ----
if [ "${1:-}" = "--one" ]; then
    src=$2
    dir=$3
    name=$(basename "$src" .nn)
    flags=$(sed -n '1s/^# flags: //p' "$src")
    mkdir -p "$dir"
    cd "$dir" || exit 1
    exec >"$dir.log" 2>&1
    # The parent counts these lines: a model that ends any other way fails.
    trap 'echo "DONE $name"' EXIT
    ok() { echo "PASS $name: $1"; }
    bad() { echo "FAIL $name: $1"; sed 's/^/    /' out.txt | tail -n 12; }
    run() { # description, command...
        what=$1
        shift
        if "$@" >out.txt 2>&1; then ok "$what"; return 0; fi
        bad "$what"
        return 1
    }
    # shellcheck disable=SC2086
    run "nnc --emit=c (f32)" "$NNC" -w $flags "$src" -o m32.c || exit 0
    # shellcheck disable=SC2086
    run "nnc --emit=c (f64)" "$NNC" -w $flags --dtype=f64 "$src" -o m64.c || exit 0
    compilers="gcc clang"
    [ "${E2E_QUICK:-0}" = 1 ] && compilers=gcc
    for cc in $compilers; do
        command -v $cc >/dev/null 2>&1 || continue
        # shellcheck disable=SC2086
        run "$cc f32" $cc $STRICT -O2 m32.c -o m32-$cc -lm
        # shellcheck disable=SC2086
        run "$cc f64" $cc $STRICT -O1 m64.c -o m64-$cc -lm
    done
    [ -x m32-gcc ] && [ -x m64-gcc ] || exit 0
    run "summary" ./m32-gcc summary
    # The kernels against the interpreter.
    # shellcheck disable=SC2086
    if run "nnc --emit=lib (f64)" "$NNC" -w $flags --dtype=f64 --emit=lib "$src" -o lib64.c -H lib64.h &&
        run "lib compiles" gcc $STRICT -O1 -c lib64.c -o lib64.o &&
        # shellcheck disable=SC2086
        run "harness links" gcc -std=c11 -O1 ${HARNESS_FLAGS:-} -D_POSIX_C_SOURCE=200809L -I"$ROOT/src" -I"$ROOT/runtime" \
            -I"$BUILD/grammar" -DNNC_LIB_GENERIC -include lib64.h "$ROOT/tests/e2e_harness.c" lib64.o \
            "$BUILD/libnncc.a" -lm -lpthread -o harness; then
        level=$(echo " $flags " | sed -n 's/.* \(-O[012]\) .*/\1/p')
        run "kernels = interpreter (f64)" env ASAN_OPTIONS=detect_leaks=0 ./harness "$src" ${level:--O2}
        data="$ROOT/examples/data/${name}_train.csv"
        [ -f "$data" ] || { env ASAN_OPTIONS=detect_leaks=0 ./harness "$src" --csv 48 >data.csv; data=data.csv; }
    else
        exit 0
    fi
    train() { ./m32-gcc train "$data" --epochs 2 --batch-size 16 --seed 7 --verbose 0 --save "$1"; }
    run "train" train w.safetensors || exit 0
    [ "${E2E_QUICK:-0}" = 1 ] || run "gradcheck (f64)" ./m64-gcc gradcheck "$data"
    [ "${E2E_QUICK:-0}" = 1 ] || run "same seed, same weights" sh -c "./m32-gcc train '$data' --epochs 2 --batch-size 16 --seed 7 --verbose 0 --save w2.safetensors && cmp w.safetensors w2.safetensors"
    # shellcheck disable=SC2086
    run "nnc --emit=infer" "$NNC" -w $flags --emit=infer --weights w.safetensors "$src" -o infer.c -H infer.h &&
        run "infer compiles" gcc $STRICT -O2 -c infer.c -o infer.o &&
        run "predict" ./m32-gcc predict "$data" --weights w.safetensors -o pred.csv &&
        run "infer links" gcc -std=c99 -O1 -DNNC_INFER_GENERIC -include infer.h "$ROOT/tests/e2e_infer.c" infer.o \
            -o infer_check -lm &&
        run "infer = predict" ./infer_check "$data" pred.csv
    exit 0
fi

# ---- every model, JOBS at a time ----
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -gt 0 ]; then
    models="$*"
else
    models=$(ls "$ROOT"/examples/*.nn "$ROOT"/tests/golden/ir/*.nn "$ROOT"/tests/golden/grad/*.nn 2>/dev/null)
fi
i=0
for src in $models; do
    src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
    flags=$(sed -n '1s/^# flags: //p' "$src")
    # shellcheck disable=SC2086
    "$NNC" --check -w $flags "$src" >/dev/null 2>&1 || continue # diagnosed models are golden errors
    i=$((i + 1))
    echo "$src $tmp/$i-$(basename "$src" .nn)"
done >"$tmp/jobs"
xargs -P "$JOBS" -n 2 sh "$0" --one <"$tmp/jobs"
cat "$tmp"/*.log >"$tmp/log" 2>/dev/null
grep -v '^PASS\|^DONE' "$tmp/log"
expected=$(wc -l <"$tmp/jobs")
finished=$(grep -c '^DONE' "$tmp/log")
passed=$(grep -c '^PASS' "$tmp/log")
failed=$(grep -c '^FAIL' "$tmp/log")
if [ "$finished" -ne "$expected" ]; then
    echo "FAIL e2e: only $finished of $expected models finished"
    failed=$((failed + expected - finished))
fi
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
