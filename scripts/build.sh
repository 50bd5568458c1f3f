#!/usr/bin/env bash
# Configures and builds Tessera into $1 (default build/), with ccache when it
# is installed (its cache lives outside the checkout, in ~/.ccache). Extra
# arguments go to cmake's configure step. TESSERA_BUILD_TARGETS (space
# separated) builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # CI builds a fresh clone in a new folder each time: paths relative to the
  # checkout, and no build directory in the hash of -g objects, let one
  # clone's objects serve the next.
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
fi
cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@"
targets=()
for t in ${TESSERA_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
