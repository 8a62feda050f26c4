#!/bin/sh
# Hostile and careless inputs to nnc and the trainer (issue 10): every
# reproducer of the runtime bugs. Each case states the exit status
# and a piece of the message it must give; files that must survive are
# checked by type. Uses the model of tests/fuzz/model.nn.
set -u
NNC=${NNC:-build/nnc}
CC=${CC:-cc}
here=$(pwd)
case $NNC in /*) ;; *) NNC=$here/$NNC ;; esac
tmp=$(mktemp -d)
sleeper=
trap 'rm -rf "$tmp"; [ -n "$sleeper" ] && kill $sleeper 2>/dev/null' EXIT
passed=0
failed=0
EDIT="python3 $here/tests/hostile/st_edit.py"

"$NNC" tests/fuzz/model.nn -o "$tmp/m.c" && $CC -O1 -std=c99 -o "$tmp/m" "$tmp/m.c" -lm || exit 1
cd "$tmp" || exit 1
good='a,b,c,y0,y1
1,2,3,0,1
2,3,1,1,0
3,1,2,0,1
0.5,2,1,1,0
1,1,1,0,1
2,2,2,1,0
3,3,3,0,1
1,3,2,1,0'
printf '%s\n' "$good" >good.csv
# data with line 3 replaced by $1
bad() { printf '%s\n' "$good" | sed "3s/.*/$1/"; }

# expect STATUS PATTERN DESCRIPTION -- COMMAND...
expect() {
    want=$1 pattern=$2 what=$3
    shift 4
    "$@" >out.txt 2>err.txt
    status=$?
    if [ $status -ne "$want" ]; then
        failed=$((failed + 1))
        echo "FAIL $what: exit status $status, expected $want"
        head -3 err.txt
    elif [ -n "$pattern" ] && ! grep -q -- "$pattern" err.txt; then
        failed=$((failed + 1))
        echo "FAIL $what: message does not contain \"$pattern\":"
        head -3 err.txt
    else
        passed=$((passed + 1))
    fi
}
ok() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $*"; fi; }

train() { ./m train "$@" --epochs 1 --verbose 0; }

# ---- CSV (bugs 4 and 8) ----
expect 0 "" "a good file" -- train good.csv --save w.safetensors
bad '"2",3.5e0,"1",1,0' >q.csv
expect 0 "" "quoted numbers" -- train q.csv --save q.safetensors
bad '"2,5",3,1,1,0' >q2.csv
expect 1 'q2.csv:3: column 1: not a number: "2,5"' "a quoted comma is one field" -- train q2.csv
bad '2,1e39,1,1,0' >r.csv
expect 1 "r.csv:3: column 2: 1e39 is out of range for float" "beyond float" -- train r.csv
bad '2,1e400,1,1,0' >r2.csv
expect 1 "r2.csv:3: column 2: 1e400 is out of range" "beyond double" -- train r2.csv
bad '2,1e20,1,1,0' >r3.csv
expect 1 "normalize_1.variance: input feature 1: its variance over the training rows is" "a variance beyond float" -- train r3.csv
printf '%s\n' "$good" | tr '\n' '\r' >cr.csv
expect 1 "cr.csv:1: carriage return (CR) inside a line: the file seems to have CR-only line ends" "CR-only" -- train cr.csv
printf '%s\n' "$good" | sed 's/$/\r\r/' >crcrlf.csv
expect 1 "crcrlf.csv:1: the line ends with CR CR LF" "CR CR LF" -- train crcrlf.csv
printf '%s\n' "$good" | sed 's/$/\r/' >crlf.csv
expect 0 "" "CR LF" -- train crlf.csv --save crlf.safetensors
{ printf '%s\n' "$good" | head -3; printf '1,2\0003,0,1\n'; } >nul.csv
expect 1 "nul.csv:4: NUL byte" "a NUL byte" -- train nul.csv
printf '%s\n' "$good" | sed '1s/.*/a,a,y,b,c/' >dup.csv
expect 1 'dup.csv: --label a: columns 0 and 1 are both named "a"' "a duplicate --label name" -- ./m eval dup.csv --weights w.safetensors --label a
bad '"2,3,1,1,0' >open.csv
expect 1 "open.csv:3: a quoted field is never closed" "an unterminated quote" -- train open.csv

# ---- checkpoint metadata (bug 5) ----
./m train good.csv --epochs 2 --verbose 0 --checkpoint c.ckpt --save w2.safetensors || failed=$((failed + 1))
for kv in target_epochs=1e300 target_epochs=3000000000 batch_size=-5 batch_size=abc \
          learning_rate=-0.1 learning_rate=nan validation_split=nan validation_split=1 seed=abc \
          seed=-1 epochs=2.5 step=-1 stop=7 callbacks=99 callback.0.best=nan \
          callback.0.wait=-3 callback.0.has_best=2 seed= epochs=; do
    key=${kv%%=*}
    $EDIT c.ckpt t.ckpt "$kv"
    expect 1 "t.ckpt: checkpoint metadata \"$key\"" "checkpoint $kv" -- ./m train good.csv --resume t.ckpt --verbose 0 --save t.safetensors
done
$EDIT c.ckpt t.ckpt "tensor:nnc/optimizer=inf"
expect 1 't.ckpt: tensor "nnc/optimizer" element 0 is inf' "inf optimizer state" -- ./m train good.csv --resume t.ckpt --verbose 0 --save t.safetensors

# ---- weights (bug 8) ----
$EDIT w.safetensors n.safetensors "tensor:dense_1.bias=nan"
expect 1 'n.safetensors: tensor "dense_1.bias" element 0 is nan' "NaN weights, trainer" -- ./m eval good.csv --weights n.safetensors
expect 1 'n.safetensors: tensor "dense_1.bias" element 0 is nan' "NaN weights, --load" -- train good.csv --load n.safetensors
expect 1 'tensor "dense_1.bias" element 0 is nan' "NaN weights, --emit=infer" -- "$NNC" "$here/tests/fuzz/model.nn" --emit=infer --weights n.safetensors -o inf.c
$EDIT w.safetensors miss.safetensors "tensor:dense_1.bias="
expect 1 'tensor "dense_1.bias" is missing' "a missing tensor, trainer" -- ./m eval good.csv --weights miss.safetensors
expect 1 '"dense_1.bias"' "a missing tensor, --emit=infer" -- "$NNC" "$here/tests/fuzz/model.nn" --emit=infer --weights miss.safetensors -o inf.c

# ---- write errors (bug 6) ----
if [ -c /dev/full ]; then
    expect 1 "standard output: write error" "eval > /dev/full" -- sh -c './m eval good.csv --weights w.safetensors >/dev/full'
    expect 1 "standard output" "predict > /dev/full" -- sh -c './m predict good.csv --weights w.safetensors >/dev/full'
    expect 1 "cannot write to standard output" "nnc -o - > /dev/full" -- sh -c "\"$NNC\" \"$here/tests/fuzz/model.nn\" -o - >/dev/full"
    expect 1 "cannot write to standard output" "nnc eval > /dev/full" -- sh -c "\"$NNC\" eval 'ones(3)' >/dev/full"
    expect 1 "cannot write" "nnc --emit=ir -o - > /dev/full" -- sh -c "\"$NNC\" \"$here/tests/fuzz/model.nn\" --emit=ir -o - >/dev/full"
fi

# ---- what a write replaces (bug 7) ----
: >real.safetensors
ln -s real.safetensors link.safetensors
expect 0 "" "save through a symlink" -- train good.csv --save link.safetensors
ok test -L link.safetensors
ok test -s real.safetensors
ln -s made.safetensors dangling.safetensors
expect 0 "" "save through a dangling symlink" -- train good.csv --save dangling.safetensors
ok test -L dangling.safetensors
ok test -s made.safetensors
mkdir sub && ln -s ../real.safetensors sub/rel.safetensors
expect 0 "" "save through a relative symlink in a folder" -- train good.csv --save sub/rel.safetensors
ok test -L sub/rel.safetensors
mkfifo fifo
cat fifo >from_fifo &
reader=$!
expect 0 "" "save into a FIFO" -- train good.csv --save fifo
wait $reader
ok test -p fifo
ok test -s from_fifo
if [ "$(id -u)" = 0 ] && mknod nulldev c 1 3 2>/dev/null; then
    expect 0 "" "save into a device" -- train good.csv --save nulldev
    ok test -c nulldev
fi
expect 1 "cannot write: Is a directory" "save onto a folder" -- train good.csv --save sub
# Temporaries of killed writers go; a live writer's and unrelated files stay.
dead=$(sh -c 'echo $$')
sleep 30 &
sleeper=$!
: >"c.ckpt.tmp-$dead-0"
: >"c.ckpt.tmp-$sleeper-1"
: >c.ckpt.tmp-notapid
expect 0 "" "a run that writes c.ckpt" -- ./m train good.csv --epochs 1 --verbose 0 --checkpoint c.ckpt --save w3.safetensors
ok test ! -e "c.ckpt.tmp-$dead-0"
ok test -e "c.ckpt.tmp-$sleeper-1"
ok test -e c.ckpt.tmp-notapid
kill $sleeper 2>/dev/null
sleeper=

# ---- model_checkpoint paths (bug 8) ----
long=$(printf '%05000d' 0)
sed "s/reduce_lr_on_plateau(patience = 1)/model_checkpoint(\"$long\")/" "$here/tests/fuzz/model.nn" >long.nn
expect 1 "this path is 5000 bytes long; the limit is 4095" "a model_checkpoint path too long for nnc" -- "$NNC" --check long.nn
sed 's/reduce_lr_on_plateau(patience = 1)/model_checkpoint("w{epoch:9999999d}")/' "$here/tests/fuzz/model.nn" >wide.nn
"$NNC" wide.nn -o wide.c && $CC -O1 -std=c99 -o wide wide.c -lm || failed=$((failed + 1))
expect 1 "model_checkpoint: the path" "a model_checkpoint path that expands past the limit" -- ./wide train good.csv --verbose 0 --epochs 1 --save w4.safetensors

echo "hostile: $passed passed, $failed failed"
[ $failed -eq 0 ]
