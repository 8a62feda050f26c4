#!/bin/sh
# End-to-end tests of the LLVM backend (SPEC 5). For every examples/*.nn and
# every valid golden model (tests/golden/{ir,grad}/*.nn, with its `# flags:`):
#   - --emit=llvm and --emit=bc pass `opt-14 -passes=verify`;
#   - the kernels, JIT-compiled in f64, equal nnc's interpreter within 1e-6
#     relative (tests/llvm_harness.c);
#   - `nnc run` and the C trainer (cc -std=c99 -O2), same seed, agree within
#     1e-5 relative on the final loss (--history) and the predictions after
#     2 epochs; the weight files are compared byte for byte and the models
#     whose weights are bit-identical are counted;
#   - --emit=exe reproduces `nnc run` exactly (weights, history, predictions);
#   - --emit=obj -H links with tests/llvm_main.c, which trains and predicts
#     through the header, and reproduces the executable's weights;
#   - `nnc run` works with a PATH holding no C compiler.
# For the examples also: --dtype=f64 executables and `nnc run --dtype=f64`
# pass gradcheck and train to the f64 C trainer's weights, bit for bit. Once:
# `make install PREFIX=<tmp>` and --emit=exe, -H objects and `nnc run` from
# the installed copy.
# Prints a line per failure and `llvm: N passed, N failed` at the end.
#   NNC=build/nnc BUILD=build tests/llvm.sh [MODEL.nn...]
set -u
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
BUILD=$(cd "${BUILD:-$(dirname "$NNC")}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
OPT=${OPT:-opt-14}
CC=${CC:-cc}
LLVM_LIBS="$(llvm-config-14 --ldflags) $(llvm-config-14 --libs)"
# A sanitized build (make SAN=1) has sanitized libraries: programs linking
# them need the sanitizers' runtime.
SANFLAGS=""
nm "$BUILD/libnncrt.a" 2>/dev/null | grep -q __asan_init && SANFLAGS="-fsanitize=address,undefined"
export SANFLAGS

# Largest relative difference (|a - b| / max(|a|, |b|, 1)) between the
# numbers of two CSV files of the same shape, header rows skipped; prints it
# and fails above $3.
numdiff() {
    awk -F, -v tol="$3" '
        NR == FNR { if ($1 ~ /^-?[0-9.]/) for (i = 1; i <= NF; i++) a[FNR, i] = $i; n = FNR; next }
        { if ($1 ~ /^-?[0-9.]/) for (i = 1; i <= NF; i++) {
              d = a[FNR, i] - $i; if (d < 0) d = -d
              s = a[FNR, i] < 0 ? -a[FNR, i] : a[FNR, i]; t = $i < 0 ? -$i : $i
              if (t > s) s = t; if (s < 1) s = 1
              if (d / s > worst) worst = d / s
              if (!((FNR, i) in a)) bad = 1
          } m = FNR }
        END { printf "max rel diff %.3e\n", worst; exit (bad || n != m || worst > tol) }' "$1" "$2"
}

# The final loss: the last row's second column of a --history file.
last_loss() { tail -n 1 "$1" | cut -d, -f2; }

# ---- one model: prints PASS/FAIL lines ----
if [ "${1:-}" = "--one" ]; then
    src=$2
    dir=$3
    name=$(basename "$src" .nn)
    flags=$(sed -n '1s/^# flags: //p' "$src")
    level=$(echo " $flags " | sed -n 's/.* \(-O[012]\) .*/\1/p')
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
    train() { # trainer command..., prefix: writes PREFIX.st, PREFIX.hist, PREFIX.pred
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
    run "kernels = interpreter (f64 JIT)" "$BUILD/llvm_harness" "$src" "${level:--O2}"
    data="$ROOT/examples/data/${name}_train.csv"
    [ -f "$data" ] || { "$BUILD/llvm_harness" "$src" "${level:--O2}" --csv 48 >data.csv; data=data.csv; }
    # shellcheck disable=SC2086
    run "nnc run (PATH without cc)" env PATH="$dir/empty" "$NNC" run -w $flags "$src" summary
    # shellcheck disable=SC2086
    run "nnc run: train, predict" train jit "$NNC" run -w $flags "$src" || exit 0
    # shellcheck disable=SC2086
    run "nnc run: same seed, same weights" sh -c "'$NNC' run -w $flags '$src' train '$data' --epochs 2 \
        --batch-size 16 --seed 7 --verbose 0 --save again.st && cmp jit.st again.st"
    # The C backend's trainer, same seed.
    # shellcheck disable=SC2086
    if run "C trainer" sh -c "'$NNC' -w $flags '$src' -o m.c && $CC -std=c99 -O2 m.c -o m-c -lm -lpthread" &&
        run "C trainer: train, predict" train c ./m-c; then
        run "LLVM = C: final loss (1e-5)" numdiff c.hist jit.hist 1e-5
        run "LLVM = C: predictions (1e-5)" numdiff c.pred jit.pred 1e-5
        if cmp -s c.st jit.st; then echo "BITID $name"; else echo "NOTBITID $name"; fi
    fi
    # shellcheck disable=SC2086
    if run "--emit=exe" "$NNC" -w $flags --emit=exe "$src" -o m-exe && run "exe: train, predict" train exe ./m-exe
    then
        run "exe = nnc run" sh -c "cmp exe.st jit.st && cmp exe.hist jit.hist && cmp exe.pred jit.pred"
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
    case "$src" in
    */examples/*)
        # shellcheck disable=SC2086
        run "--emit=exe --dtype=f64" "$NNC" -w $flags --dtype=f64 --emit=exe "$src" -o m64 &&
            run "f64 exe: gradcheck" ./m64 gradcheck "$data" &&
            run "f64 exe: train" ./m64 train "$data" --epochs 2 --seed 3 --verbose 0 --save exe64.st
        # shellcheck disable=SC2086
        run "f64 C trainer = f64 exe" sh -c "'$NNC' -w $flags --dtype=f64 '$src' -o m64.c &&
            $CC -std=c99 -O2 m64.c -o m64-c -lm -lpthread && ./m64-c train '$data' --epochs 2 --seed 3 \
            --verbose 0 --save c64.st && cmp c64.st exe64.st"
        # shellcheck disable=SC2086
        run "nnc run --dtype=f64: gradcheck" "$NNC" run -w $flags --dtype=f64 "$src" gradcheck "$data" &&
            run "nnc run --dtype=f64 = f64 exe" sh -c "'$NNC' run -w $flags --dtype=f64 '$src' train '$data' \
                --epochs 2 --seed 3 --verbose 0 --save jit64.st && cmp jit64.st exe64.st"
        ;;
    esac
    exit 0
fi

# ---- once: make install into a temporary prefix, used from there ----
installed() {
    prefix=$1/prefix
    dir=$1/installed
    mkdir -p "$dir/empty" && cd "$dir" || return
    ok() { echo "PASS install: $1"; }
    bad() { echo "FAIL install: $1"; sed 's/^/    /' out.txt | tail -n 12; }
    run() {
        what=$1
        shift
        if "$@" >out.txt 2>&1; then ok "$what"; return 0; fi
        bad "$what"
        return 1
    }
    # shellcheck disable=SC2086
    run "make install PREFIX=..." make -s -C "$ROOT" install BUILD="$BUILD" PREFIX="$prefix" ${SANFLAGS:+SAN=1} ||
        return
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

# ---- every model, JOBS at a time ----
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The kernels-against-interpreter harness, linked with nnc's libraries.
if ! $CC -std=c11 -O1 -D_POSIX_C_SOURCE=200809L -I"$ROOT/src" -I"$ROOT/runtime" -I"$BUILD/grammar" \
    "$ROOT/tests/llvm_harness.c" "$BUILD/libnncc.a" "$BUILD/libnncrt.a" $LLVM_LIBS -lm -lpthread $SANFLAGS \
    -o "$BUILD/llvm_harness" >"$tmp/harness.log" 2>&1; then
    cat "$tmp/harness.log"
    echo "llvm: 0 passed, 1 failed"
    exit 1
fi
if [ $# -gt 0 ]; then
    models="$*"
elif [ "${LLVM_QUICK:-0}" = 1 ]; then
    # The sanitizer run checks nnc itself: the examples cover every kind of
    # kernel; the optimized run covers every golden model too.
    models=$(ls "$ROOT"/examples/*.nn)
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
    mkdir -p "$tmp/$i-$(basename "$src" .nn)/empty"
    echo "$src $tmp/$i-$(basename "$src" .nn)"
done >"$tmp/jobs"
xargs -P "$JOBS" -n 2 sh "$0" --one <"$tmp/jobs"
[ $# -gt 0 ] || installed "$tmp" >"$tmp/install.log" 2>&1
cat "$tmp"/*.log >"$tmp/log" 2>/dev/null
grep -v '^PASS\|^BITID\|^NOTBITID\|^DONE' "$tmp/log"
expected=$(wc -l <"$tmp/jobs")
finished=$(grep -c '^DONE' "$tmp/log")
passed=$(grep -c '^PASS' "$tmp/log")
failed=$(grep -c '^FAIL' "$tmp/log")
if [ "$finished" -ne "$expected" ]; then
    echo "FAIL llvm: only $finished of $expected models finished"
    failed=$((failed + expected - finished))
fi
same=$(grep -c '^BITID' "$tmp/log")
compared=$(grep -c 'BITID' "$tmp/log")
echo "llvm: weights bit-identical to the C trainer's for $same of $compared models:" \
    "$(grep '^NOTBITID' "$tmp/log" | cut -d' ' -f2 | tr '\n' ' ')"
echo "llvm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
