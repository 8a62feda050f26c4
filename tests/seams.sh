#!/bin/sh
# The backends print what the lowering decided (src/codegen/model.h): no
# file of src/codegen/c/ or src/codegen/llvm/ may include the IR (ir.h),
# the code generator's internals (codegen.h, lower.h: the plan) or the
# front end. Checked on what the preprocessor actually opens.
set -u
cd "$(dirname "$0")/.."
CC=${CC:-cc}
LLVM_INC=$(llvm-config-14 --includedir 2>/dev/null || true)
pass=0 fail=0
for f in src/codegen/c/*.c src/codegen/llvm/*.c; do
    case $f in src/codegen/llvm/*) [ -n "$LLVM_INC" ] || continue ;; esac
    opened=$($CC -std=c11 -D_POSIX_C_SOURCE=200809L ${LLVM_INC:+-isystem "$LLVM_INC"} -Isrc -Iruntime \
        -E -H "$f" -o /dev/null 2>&1 | grep -E '^\.+ ' | sed 's/^\.* //')
    bad=$(printf '%s\n' "$opened" | grep -E '(^|/)(ir|codegen|lower|frontend|sema)\.h$' || true)
    if [ -n "$bad" ]; then
        echo "FAIL $f includes $(echo $bad)"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done
echo "seams: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
