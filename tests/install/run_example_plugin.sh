#!/usr/bin/env bash
# Installs the build in $1 into a temporary prefix, builds examples/backend-plugin
# against it with find_package(Tessera) as a vendor would, and certifies the
# plugin with the installed tessera-conformance (every supported case passes).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/install_prefix.sh" "$1" "$here/../../examples/backend-plugin"
plugin="$work/project/libtessera_example.so"
# The plugin must not need libtessera: core loads it, it never calls core.
if ldd "$plugin" | grep -q libtessera; then
  echo "libtessera_example.so links libtessera"
  exit 1
fi
LD_LIBRARY_PATH="$work/prefix/lib" "$work/prefix/bin/tessera-conformance" --plugin "$plugin" --device example
echo "example plugin from the installed prefix: certified"
