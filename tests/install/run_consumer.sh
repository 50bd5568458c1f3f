#!/usr/bin/env bash
# Installs the build in $1 into a temporary prefix, then builds and runs the
# consumer programs against it with find_package(Tessera) and with pkg-config.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer/consumer_c"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer/consumer_cpp"
"$work/consumer/kit_consumer"
# pkg-config route, as a Makefile user would do it.
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc "$src/consumer/consumer.c" $(pkg-config --cflags --libs tessera) -o "$work/consumer_pc"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer_pc"
c++ -std=c++20 "$src/consumer/kit_consumer.cpp" $(pkg-config --cflags --libs tessera-backend-kit) -o "$work/kit_pc"
"$work/kit_pc"
echo "installed-package consumer: ok"
