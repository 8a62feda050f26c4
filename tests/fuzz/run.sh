#!/bin/sh
# tests/fuzz/run.sh TARGET... — runs each libFuzzer target of tests/fuzz for
# FUZZ_SECONDS, from its seed corpus (tests/fuzz/corpus/TARGET, plus the
# examples and golden models for the front end, plus weights and a
# checkpoint of tests/fuzz/model.nn made here), after running every kept
# reproducer (tests/fuzz/regress/TARGET). Prints each target's exec count;
# fails on any crash, sanitizer report, leak or timeout (libFuzzer's exit
# status), leaving the input in $FUZZ/artifacts.
set -u
FUZZ=${FUZZ:-build/fuzz}
NNC=${NNC:-build/nnc}
SECONDS_EACH=${FUZZ_SECONDS:-60}
CC=${CC:-cc}
here=$(pwd)
fail=0
mkdir -p "$FUZZ/artifacts" "$FUZZ/seeds"

# Weights and a checkpoint of the runtime targets' model, as seeds.
if [ ! -f "$FUZZ/seeds/made" ]; then
    work=$FUZZ/seeds/train
    mkdir -p "$work"
    printf 'a,b,c,y0,y1\n1,2,3,0,1\n2,3,1,1,0\n3,1,2,0,1\n0.5,2,1,1,0\n1,1,1,0,1\n2,2,2,1,0\n3,3,3,0,1\n1,3,2,1,0\n' >"$work/data.csv"
    "$NNC" tests/fuzz/model.nn -o "$work/fuzzm.c" &&
        $CC -O1 -std=c99 -o "$work/fuzzm" "$work/fuzzm.c" -lm &&
        (cd "$work" && ./fuzzm train data.csv --verbose 0 --checkpoint c.ckpt --save w.safetensors) ||
        { echo "fuzz: cannot make the seed weights" >&2; exit 1; }
    touch "$FUZZ/seeds/made"
fi

for t in "$@"; do
    bin=$here/$FUZZ/fuzz_$t
    corpus=$here/$FUZZ/corpus/$t
    seeds=$here/$FUZZ/seeds/$t
    mkdir -p "$corpus" "$seeds"
    cp tests/fuzz/corpus/$t/* "$seeds/" 2>/dev/null
    case $t in
    frontend)
        # Every model, and 40 of its prefixes: sources cut anywhere (what an
        # editor saves mid-word), run in-process under the sanitizers.
        for f in examples/*.nn tests/golden/*/*.nn; do
            name=$(echo "$f" | tr / _)
            cp "$f" "$seeds/$name"
            size=$(wc -c <"$f")
            step=$((size / 40 + 1))
            n=0
            while [ $n -lt "$size" ]; do
                head -c $n "$f" >"$seeds/$name.$n"
                n=$((n + step))
            done
        done ;;
    safetensors) cp "$FUZZ/seeds/train/w.safetensors" "$FUZZ/seeds/train/c.ckpt" "$seeds/" ;;
    checkpoint) cp "$FUZZ/seeds/train/c.ckpt" "$seeds/" ;;
    esac
    dict=
    case $t in frontend|eval) dict=-dict=$here/tests/fuzz/nn.dict ;; esac
    opts="-timeout=10 -rss_limit_mb=2048 -max_len=4096 -close_fd_mask=3 -artifact_prefix=$here/$FUZZ/artifacts/$t-"
    # The targets work in a directory of their own under TMPDIR (fuzz.h):
    # one per target and run, so that runs side by side never share one.
    mkdir -p "$here/$FUZZ/tmp"
    TMPDIR=$(mktemp -d "$here/$FUZZ/tmp/$t.XXXXXX")
    export TMPDIR
    # Every reproducer found so far, once.
    if ls tests/fuzz/regress/$t/* >/dev/null 2>&1; then
        if ! "$bin" $opts tests/fuzz/regress/$t/* >"$FUZZ/$t.regress.log" 2>&1; then
            echo "fuzz $t: a kept reproducer fails again (see $FUZZ/$t.regress.log)"
            fail=1
            rm -rf "$TMPDIR"
            continue
        fi
    fi
    "$bin" $opts $dict -max_total_time="$SECONDS_EACH" -print_final_stats=1 "$corpus" "$seeds" >"$FUZZ/$t.log" 2>&1
    rc=$?
    rm -rf "$TMPDIR"
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 execs in \2 s/p' "$FUZZ/$t.log" | tail -1)
    if [ $rc -ne 0 ]; then
        echo "fuzz $t: FAILED (exit $rc; see $FUZZ/$t.log and $FUZZ/artifacts/$t-*)"
        grep -m3 -E "ERROR|SUMMARY|runtime error" "$FUZZ/$t.log"
        fail=1
    else
        echo "fuzz $t: ok, ${runs:-? execs}, corpus $(ls "$corpus" | wc -l) new inputs"
    fi
done
exit $fail
