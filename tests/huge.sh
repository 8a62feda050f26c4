#!/bin/sh
# Huge and extreme programs (issue 10): 10,000-statement chains,
# 100,000-term expressions, 2,000 layers, tensors past 2^31 elements,
# literals at the limits of double, deep nesting. Each must end in a clear
# message (exit 1 and "error:") or a C file that compiles, within a fixed
# time and memory, never a signal. HUGE_QUICK=1 (the sanitizer build)
# uses smaller sizes.
#
# A case that fails only because of the C code generator may be listed in
# KNOWN_CODEGEN while it is being fixed: it is reported as XFAIL and does
# not fail the test, and as XPASS once it passes. None is listed: the
# 10,000-statement chain once overflowed the stack in the lowering (an
# expression as deep as the chain), fixed by storing every 48th link.
set -u
NNC=${NNC:-build/nnc}
CC=${CC:-cc}
QUICK=${HUGE_QUICK:-0}
LIMIT=${HUGE_TIMEOUT:-120}
KNOWN_CODEGEN=${KNOWN_CODEGEN:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
xfail=0

# A bound on memory, except under ASan (which maps terabytes of shadow).
if [ "$QUICK" = 0 ]; then MEM="ulimit -v 8000000;"; else MEM=""; fi

known() { for k in $KNOWN_CODEGEN; do [ "$k" = "$1" ] && return 0; done; return 1; }

# case n want [emit]: want is ok (a compiling file), error (a message
# matching $pattern) or any (either).
check() {
    name=$1 n=$2 want=$3 emit=${4:-c}
    python3 tests/huge_gen.py "$name" "$n" >"$tmp/h.nn" || { failed=$((failed + 1)); return; }
    out=$tmp/h.$emit
    rm -f "$out"
    start=$(date +%s)
    sh -c "$MEM exec timeout $LIMIT \"$NNC\" \"$tmp/h.nn\" --emit=$emit -o \"$out\"" >/dev/null 2>"$tmp/err"
    status=$?
    took=$(( $(date +%s) - start ))
    what="$name $n --emit=$emit"
    verdict=
    if [ $status -ge 124 ]; then
        verdict="exit status $status (signal or timeout after ${took}s)"
    elif [ $status -eq 1 ]; then
        if ! grep -q "error:" "$tmp/err"; then
            verdict="exit 1 without a diagnostic"
        elif [ "$want" = ok ]; then
            verdict="expected a file, got: $(grep -m1 error: "$tmp/err" | cut -c1-160)"
        elif [ -n "$pattern" ] && ! grep -q "$pattern" "$tmp/err"; then
            verdict="message does not match '$pattern': $(grep -m1 error: "$tmp/err" | cut -c1-160)"
        fi
    elif [ $status -eq 0 ]; then
        if [ "$want" = error ]; then
            verdict="expected an error, nnc accepted it"
        elif [ "$emit" = c ] && ! $CC -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only "$out" 2>"$tmp/cc"; then
            verdict="the generated C does not compile: $(head -c 300 "$tmp/cc")"
        fi
    else
        verdict="exit status $status: $(head -c 300 "$tmp/err")"
    fi
    if [ -z "$verdict" ]; then
        passed=$((passed + 1))
        echo "ok    $what (${took}s)"
    elif [ "$emit" = c ] && known "$name"; then
        xfail=$((xfail + 1))
        echo "XFAIL $what: $verdict [known: C code generator]"
    else
        failed=$((failed + 1))
        echo "FAIL  $what: $verdict"
        head -3 "$tmp/err" | cut -c1-200
    fi
    if [ -z "$verdict" ] && [ "$emit" = c ] && known "$name"; then
        echo "XPASS $what: remove '$name' from KNOWN_CODEGEN in tests/huge.sh"
    fi
}

if [ "$QUICK" = 0 ]; then BIG=1; else BIG=0; fi
chain=$([ $BIG = 1 ] && echo 10000 || echo 2000)
terms=$([ $BIG = 1 ] && echo 100000 || echo 20000)
layers=$([ $BIG = 1 ] && echo 2000 || echo 300)

pattern="nest.* deep"
check sum "$terms" error
check neg "$terms" error
check calls 5000 error
check mixed 900 ok grad-ir
check mixed 900 ok
pattern=
check chain "$chain" ok grad-ir
check chain "$chain" ok
check layers "$layers" ok grad-ir
check layers "$layers" ok
check parens 20000 any
check name 100000 ok
pattern="too large: .* bytes as f32; the limit is 2147483647 elements"
check wide 46341 error
check input 65536 error
check outer 65536 error
check rank8 100000 error
pattern=
check wide 40000 ok
pattern="out of range; the largest is about 1.8e308"
check "literal:1e400" 0 error
check "literal:-1e309" 0 error
pattern=
check "literal:1e-400" 0 any
check "literal:4.9e-324" 0 ok
check "literal:1.7976931348623157e308" 0 any
echo "huge: $passed passed, $xfail known codegen failures, $failed failed"
[ $failed -eq 0 ]
