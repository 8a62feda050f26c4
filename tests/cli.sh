#!/bin/sh
# A new user's first hour, end to end (SPEC 1.5, 2, 3): the command lines of
# nnc and of a generated trainer, and what they must never do silently.
#   - nnc's options: --emit ir and --emit=ir, --dtype f64 and --dtype=f64,
#     options anywhere (nnc -w run x.nn, and after run's file), every
#     default in --help, the closest option for a typo;
#   - a one-unit logistic regression with weight decay compiles at -O2 and
#     trains under nnc run (it once stopped nnc with an internal error);
#   - normalize(standard) only centres a feature constant in the training
#     rows: an unseen value of it is not multiplied by 3162;
#   - a generated trainer reads gzip data and standard input, saves by
#     default, and checks its output paths before it trains;
#   - --emit=lib's -H header defines the memory figures summary prints;
#   - --profile times every kernel and finds no allocation inside steps.
set -u
NNC=$(cd "$(dirname "${NNC:-build/nnc}")" && pwd)/$(basename "${NNC:-build/nnc}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL $1"
    [ -s out ] && head -20 out
}
# expect DESCRIPTION STATUS COMMAND...: the status, output in ./out
expect() {
    what=$1 want=$2
    shift 2
    "$@" >out 2>&1
    status=$?
    if [ $status -eq "$want" ]; then ok; else fail "$what (exit status $status, expected $want)"; fi
}
# has DESCRIPTION TEXT: ./out contains TEXT
has() {
    if grep -qF -- "$2" out; then ok; else fail "$1: no '$2'"; fi
}

cat >r.nn <<'EOF'
model r { input x[4]; dense(1, sigmoid, bias_regularizer = l2(0.01)) }
compile { loss = binary_crossentropy }
fit { epochs = 2; verbose = 2 }
EOF
printf '1,2,3,4,1\n2,3,4,5,0\n0,1,0,1,1\n3,1,2,0,0\n' >d.csv

# ---- nnc's options ----
"$NNC" --emit=ir -w r.nn >eq.ir 2>&1
expect "--emit ir" 0 "$NNC" --emit ir -w r.nn
if cmp -s eq.ir out; then ok; else fail "--emit ir differs from --emit=ir"; fi
"$NNC" -w r.nn --emit=grad-ir --dtype=f64 >eq.ir 2>&1
expect "--dtype f64 after the file" 0 "$NNC" -w r.nn --emit=grad-ir --dtype f64
if cmp -s eq.ir out; then ok; else fail "--dtype f64 differs from --dtype=f64"; fi
expect "--unroll 4" 0 "$NNC" -w r.nn --unroll 4 -o u.c
expect "--fp-contract=maybe" 2 "$NNC" -w r.nn --fp-contract=maybe
has "--fp-contract=maybe" "--fp-contract: expected on or off, got 'maybe'"
expect "--list regularizer" 0 "$NNC" --list regularizer
has "--list regularizer" "l1_l2"
expect "nnc -w run x.nn" 0 "$NNC" -w run r.nn summary
has "nnc -w run x.nn" "Total params: 5"
expect "options after run's file" 0 "$NNC" run r.nn train d.csv --no-save -O1 --dtype f64 -w --fp-contract off
has "options after run's file" "Epoch 2/2"
expect "unknown option" 2 "$NNC" --emti=ir r.nn
has "unknown option" "nnc: unknown option '--emti=ir'; did you mean '--emit'?"
expect "unknown option, no near one" 2 "$NNC" --frobnicate r.nn
has "unknown option, no near one" "nnc: unknown option '--frobnicate'"
expect "nnc --help" 0 "$NNC" --help
for d in "(default c)" "(default f32)" "(default -O2)" "(default: from sizes)" "(default: <model>.c"; do
    has "nnc --help" "$d"
done
expect "nnc eval after an option" 0 "$NNC" -w eval '-1 + 3'
has "nnc eval after an option" "array(2.)"

# ---- one unit, weight decay, -O2 (the default) ----
for level in -O0 -O1 -O2; do
    expect "regularized one-unit model $level" 0 "$NNC" $level r.nn -o r.c
done
expect "nnc run, regularized one-unit model" 0 "$NNC" run r.nn train d.csv
has "nnc run, regularized one-unit model" "Saved weights to r.safetensors"
[ -s r.safetensors ] && ok || fail "nnc run saved nothing"

# ---- a generated trainer ----
expect "compile cancer" 0 "$NNC" "$ROOT/examples/cancer.nn" -o cancer.c
expect "cc cancer" 0 $CC -std=c99 -O1 cancer.c -o cancer -lm -lpthread
data=$ROOT/examples/data/cancer_train.csv
expect "--save to a missing directory" 1 ./cancer train "$data" --save no/such/w.safetensors
if grep -q "Epoch" out; then fail "trained before failing on --save"; else ok; fi
has "--save to a missing directory" "no/such/w.safetensors: cannot write: No such file or directory"
gzip -c "$data" >train.csv.gz
expect "gzip data" 0 ./cancer train train.csv.gz --epochs 2 --verbose 2 --save gz.safetensors
has "gzip data" "Saved weights to gz.safetensors"
expect "standard input" 0 sh -c "./cancer train - --epochs 2 --verbose 2 --save in.safetensors <'$data'"
if cmp -s gz.safetensors in.safetensors; then ok; else fail "gzip and standard input trained differently"; fi
expect "default save" 0 ./cancer --epochs=1 train "$data"
has "default save" "Saved weights to cancer.safetensors"
[ -s cancer.safetensors ] && ok || fail "no cancer.safetensors"
expect "trainer --help" 0 ./cancer --help
has "trainer --help" "--threads N             worker threads; the result does not depend on it (default 1)"
has "trainer --help" "(default cancer.safetensors)"
expect "trainer typo" 2 ./cancer train "$data" --epoch 3
has "trainer typo" "unknown option '--epoch'; did you mean '--epochs'?"

# ---- normalize(standard) and a constant feature ----
cat >n.nn <<'EOF'
model n {
    input x[2]
    param b[2] = 0
    output normalize(standard)(x) + b
}
compile { loss = mse }
EOF
printf '1,5,0,0\n2,5,0,0\n3,5,0,0\n' >n.csv
printf '2,8\n' >unseen.csv
expect "compile n" 0 "$NNC" -w n.nn -o n.c
expect "cc n" 0 $CC -std=c99 -O1 n.c -o n -lm -lpthread
expect "train n" 0 ./n train n.csv --epochs 0 --save n.safetensors --verbose 0
expect "predict an unseen value" 0 ./n predict unseen.csv --weights n.safetensors
# column 1 is 5 in every training row: 8 is only centred, to 3
if [ "$(tail -1 out)" = "0,3" ]; then ok; else fail "constant feature: predicted $(tail -1 out), want 0,3"; fi

# ---- --emit=lib's header: summary's memory figures ----
for dtype in f32 f64; do
    expect "--emit=lib $dtype" 0 "$NNC" "$ROOT/examples/cancer.nn" --emit=lib --dtype=$dtype -o lib.c -H lib.h
    expect "summary $dtype" 0 "$NNC" run --dtype=$dtype "$ROOT/examples/cancer.nn" summary
    for pair in "PARAM_BYTES parameters" "GRAD_BYTES gradients" "OPT_BYTES optimizer state" \
                "ACTIVATION_BYTES activations" "BATCH_BUFFER_BYTES batch buffers" \
                "BEST_BYTES best weights" "TRAIN_BYTES total"; do
        macro=${pair%% *} label=${pair#* }
        want=$(sed -n "s/^ $label  *\([0-9,]*\) bytes.*/\1/p" out | tr -d ,)
        got=$(sed -n "s/^#define CANCER_$macro \([0-9]*\).*/\1/p" lib.h)
        if [ -n "$want" ] && [ "$want" = "$got" ]; then ok; else
            fail "$dtype: CANCER_$macro is '$got', summary says '$want' $label"
        fi
    done
done

# ---- --emit=infer: rows per block ----
# A row of 2080 activations: 7 rows fill the 64 KB stack budget, but 6.4 MB
# of weights read once per block take whole 8-row tiles (65 KB); 8
# inputs to 3000 units (216 KB of weights) keep to the budget.
for shape in "784 2048 8 66560" "8 3000 5 60640"; do
    set -- $shape
    printf 'model w {\n input x[%s]\n dense(%s, relu)\n dense(10, softmax)\n}\ncompile {\n loss = sparse_categorical_crossentropy\n}\n' \
        "$1" "$2" >w.nn
    awk -v n="$1" 'BEGIN { for (r = 0; r < 2; r++) { for (i = 0; i < n; i++) printf "%d,", (i + r) % 5; print r } }' >w.csv
    expect "$1-$2: initial weights" 0 "$NNC" run w.nn train w.csv --epochs 0 --save w.safetensors --verbose 0
    expect "$1-$2: --emit=infer" 0 "$NNC" w.nn --emit=infer --weights w.safetensors -o w_infer.c -H w_infer.h
    grep -q "predictions y (n x 10), $3 rows at a time" w_infer.c && ok || fail "$1-$2: not $3 rows a block"
    grep -q "^#define W_SCRATCH_BYTES $4\$" w_infer.h && ok || fail "$1-$2: $(grep SCRATCH_BYTES w_infer.h)"
done

# ---- --profile (SPEC 3): every kernel timed, no allocation inside steps ----
expect "train --profile" 0 "$NNC" run r.nn train d.csv --no-save --epochs 3 --batch-size 2 --profile
has "--profile" "forward_backward"
has "--profile" "update"
has "--profile" "GFLOP/s"
has "--profile" "heap allocations during 6 training steps: 0"
has "--profile" "training steps: 12 rows in"
has "--profile" "samples/s"
expect "--profile takes no value" 2 "$NNC" run r.nn train d.csv --no-save --profile=1

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
