#!/bin/sh
# Robustness smoke test: nnc must never crash or hang, whatever it reads.
# Prefixes of every example and golden program, and random bytes, must end
# with exit status 0 (valid) or 1 (diagnosed), within a time limit. Eight
# cuts a file here, through the command line; forty a file in-process under
# the sanitizers, as seeds of the front end's fuzz target (tests/fuzz/run.sh).
# SMOKE_QUICK=1 (the sanitizer build, whose every start costs a tenth of a
# second; the fuzz target covers the cuts under the sanitizers): 2 cuts a
# file and 20 random inputs.
set -u
NNC=${NNC:-build/nnc}
cuts=8 randoms=60
[ "${SMOKE_QUICK:-0}" = 1 ] && cuts=2 randoms=20
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

run() { # file, description
    timeout 10 "$NNC" --check "$1" >/dev/null 2>"$tmp/err"
    status=$?
    if [ $status -eq 0 ] || [ $status -eq 1 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL ($2): exit status $status"
        head -5 "$tmp/err"
    fi
}

for src in examples/*.nn tests/golden/*/*.nn; do
    size=$(wc -c <"$src")
    step=$(( size / cuts + 1 ))
    n=0
    while [ $n -lt "$size" ]; do
        head -c $n "$src" >"$tmp/cut.nn"
        run "$tmp/cut.nn" "$src truncated to $n bytes"
        n=$((n + step))
    done
done

i=0
while [ $i -lt $randoms ]; do
    head -c $((i * 7 % 500 + 1)) /dev/urandom >"$tmp/random.nn"
    run "$tmp/random.nn" "random bytes #$i"
    cp "$tmp/random.nn" "$tmp/last-random.nn"
    i=$((i + 1))
done
echo "smoke: $passed passed, $failed failed"
[ $failed -eq 0 ]
