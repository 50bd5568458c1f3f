#!/usr/bin/env bash
# Installs the build in $1 into a temporary prefix, builds examples/backend-plugin
# against it with find_package(Tessera) as a vendor would, and certifies the
# plugin with the installed tessera-conformance (every supported case passes).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/../../examples/backend-plugin" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src" -B "$work/plugin" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/plugin" >/dev/null
# The plugin must not need libtessera: core loads it, it never calls core.
if ldd "$work/plugin/libtessera_example.so" | grep -q libtessera; then
  echo "libtessera_example.so links libtessera"
  exit 1
fi
LD_LIBRARY_PATH="$work/prefix/lib" "$work/prefix/bin/tessera-conformance" \
  --plugin "$work/plugin/libtessera_example.so" --device example
echo "example plugin from the installed prefix: certified"
