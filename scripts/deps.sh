#!/bin/sh
# Installs the Debian packages nnc needs, if missing:
#   scripts/deps.sh         to build and test
#   scripts/deps.sh bench   also the benchmark's peers (PyTorch on the CPU, OpenBLAS
#                           for the hand-written C trainer of ../shared/bench)
set -eu
packages="make gcc clang flex bison llvm-14-dev libcriterion-dev libclang-rt-14-dev python3 python3-numpy bc"
[ "${1:-}" = "bench" ] && packages="$packages python3-torch libopenblas-dev"
need=""
for pkg in $packages; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
    echo "deps.sh: installing$need"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi
