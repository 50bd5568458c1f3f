#!/usr/bin/env bash
# Installs the build in $1 into a temporary prefix, then builds and runs the
# consumer programs against it with find_package(Tessera) and with pkg-config.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/install_prefix.sh" "$1" "$here/consumer"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/project/consumer_c"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/project/consumer_cpp"
"$work/project/kit_consumer"
# pkg-config route, as a Makefile user would do it.
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc "$here/consumer/consumer.c" $(pkg-config --cflags --libs tessera) -o "$work/consumer_pc"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer_pc"
c++ -std=c++20 "$here/consumer/kit_consumer.cpp" $(pkg-config --cflags --libs tessera-backend-kit) -o "$work/kit_pc"
"$work/kit_pc"
echo "installed-package consumer: ok"
