# jobs.sh — the job runner shared by tests/e2e.sh and tests/llvm.sh, which
# source it: every model of the e2e corpus (examples/*.nn and the valid
# golden models tests/golden/{ir,grad}/*.nn, with their `# flags:`), or the
# models named on the command line, JOBS at a time, one folder each; a
# line per failure and `SUITE: N passed, N failed` at the end.
#
# The sourcing script sets SUITE, defines one_model and calls
# `jobs_main "$@"`. one_model runs in the model's own folder, with $src,
# $dir, $name, $flags (the `# flags:` line) and $level (its -ON, or empty)
# set, and checks through run/ok/bad, which print the PASS and FAIL lines
# that are counted. Optional, in the parent: MODELS, the models when none
# is named (default: the corpus); jobs_prepare, run before the models (a
# failure fails the suite), and jobs_after, run after them when no model is
# named, its PASS/FAIL lines counted too. $JOBS_TMP is the parent's
# temporary folder, removed at the end.
set -u
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
BUILD=$(cd "${BUILD:-$(dirname "$NNC")}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# What the PASS and FAIL lines name: the model, or what jobs_after checks.
label=$SUITE
ok() { echo "PASS $label: $1"; }
bad() { echo "FAIL $label: $1"; sed 's/^/    /' out.txt | tail -n 12; }
run() { # description, command...: its output in out.txt
    what=$1
    shift
    if "$@" >out.txt 2>&1; then ok "$what"; return 0; fi
    bad "$what"
    return 1
}

# ---- one model: prints PASS/FAIL lines into DIR.log ----
jobs_one() { # MODEL.nn DIR
    src=$1
    dir=$2
    name=$(basename "$src" .nn)
    flags=$(sed -n '1s/^# flags: //p' "$src")
    # shellcheck disable=SC2034 # one_model's
    level=$(echo " $flags " | sed -n 's/.* \(-O[012]\) .*/\1/p')
    label=$name
    mkdir -p "$dir"
    cd "$dir" || exit 1
    exec >"$dir.log" 2>&1
    # The parent counts these lines: a model that ends any other way fails.
    trap 'echo "DONE $name"' EXIT
    one_model
    exit 0
}

# ---- every model, JOBS at a time ----
jobs_main() {
    [ "${1:-}" = "--one" ] && jobs_one "$2" "$3"
    JOBS_TMP=$(mktemp -d)
    export JOBS_TMP
    trap 'rm -rf "$JOBS_TMP"' EXIT
    if command -v jobs_prepare >/dev/null && ! jobs_prepare >"$JOBS_TMP/prepare.out" 2>&1; then
        cat "$JOBS_TMP/prepare.out"
        echo "$SUITE: 0 passed, 1 failed"
        exit 1
    fi
    models=${MODELS:-$(ls "$ROOT"/examples/*.nn "$ROOT"/tests/golden/ir/*.nn "$ROOT"/tests/golden/grad/*.nn)}
    [ $# -gt 0 ] && models="$*"
    i=0
    for src in $models; do
        src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
        # shellcheck disable=SC2046
        "$NNC" --check -w $(sed -n '1s/^# flags: //p' "$src") "$src" >/dev/null 2>&1 ||
            continue # diagnosed models are golden errors
        i=$((i + 1))
        echo "$src $JOBS_TMP/$i-$(basename "$src" .nn)"
    done >"$JOBS_TMP/jobs"
    xargs -P "$JOBS" -n 2 sh "$0" --one <"$JOBS_TMP/jobs"
    if [ $# -eq 0 ] && command -v jobs_after >/dev/null; then
        (jobs_after) >"$JOBS_TMP/after.log" 2>&1
    fi
    cat "$JOBS_TMP"/*.log >"$JOBS_TMP/log" 2>/dev/null
    grep -v '^PASS\|^DONE' "$JOBS_TMP/log"
    expected=$(wc -l <"$JOBS_TMP/jobs")
    finished=$(grep -c '^DONE' "$JOBS_TMP/log")
    passed=$(grep -c '^PASS' "$JOBS_TMP/log")
    failed=$(grep -c '^FAIL' "$JOBS_TMP/log")
    if [ "$finished" -ne "$expected" ]; then
        echo "FAIL $SUITE: only $finished of $expected models finished"
        failed=$((failed + expected - finished))
    fi
    echo "$SUITE: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
