#!/bin/sh
# Golden tests: each tests/golden/<suite>/NAME.nn sits beside its expected
# output, compared byte for byte.
#   errors/NAME.nn  -> NAME.err: `nnc --check` diagnostics (stderr); the exit
#                      status must be 1 if the text has an error, else 0
#   ir/NAME.nn      -> NAME.ir:  `nnc --emit=ir` (stdout), exit status 0
#   grad/NAME.nn    -> NAME.grad: `nnc --emit=grad-ir` (stdout), exit status 0,
#                      and NAME.loops: `nnc --emit=loops`, the kernels both
#                      backends print
# A first line `# flags: ...` adds command-line flags (e.g. -Werror).
# With --update, the expectations are rewritten instead (review the diff).
set -u
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
update=0
[ "${1:-}" = "--update" ] && update=1
root=$(cd "$(dirname "$0")/golden" && pwd)
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

flags_of() {
    sed -n '1s/^# flags: //p' "$1"
}

check() { # suite name expected-file actual-file status expected-status
    if [ $update -eq 1 ]; then
        cp "$4" "$3"
        passed=$((passed + 1))
    elif cmp -s "$3" "$4" && [ "$5" -eq "$6" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $1/$2 (exit status $5, expected $6)"
        diff -u "$3" "$4" | head -40
    fi
}

for suite in errors ir grad; do
    cd "$root/$suite" || exit 1
    for nn in *.nn; do
        [ -e "$nn" ] || continue
        name=${nn%.nn}
        flags=$(flags_of "$nn")
        if [ $suite = errors ]; then
            # shellcheck disable=SC2086
            "$NNC" --check $flags "$nn" >/dev/null 2>"$tmp/out"
            status=$?
            expected_status=0
            grep -q ': error: \|^nnc: too many errors' "$name.err" 2>/dev/null && expected_status=1
            [ $update -eq 1 ] && expected_status=$status
            check $suite "$name" "$name.err" "$tmp/out" $status $expected_status
        else
            emit=ir ext=ir
            [ $suite = grad ] && emit=grad-ir ext=grad
            # shellcheck disable=SC2086
            "$NNC" --emit=$emit -w $flags "$nn" >"$tmp/out" 2>"$tmp/err" # warnings: errors/ tests them
            status=$?
            [ -s "$tmp/err" ] && cat "$tmp/err"
            check $suite "$name" "$name.$ext" "$tmp/out" $status 0
            [ $suite = grad ] || continue
            # shellcheck disable=SC2086
            "$NNC" --emit=loops $flags "$nn" >"$tmp/out" 2>"$tmp/err"
            status=$?
            [ -s "$tmp/err" ] && cat "$tmp/err"
            check loops "$name" "$name.loops" "$tmp/out" $status 0
        fi
    done
done
echo "golden: $passed passed, $failed failed"
[ $failed -eq 0 ]
