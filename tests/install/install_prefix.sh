# Sourced by the install tests: installs the build in $1 into "$work/prefix"
# and builds the CMake project in folder $2 against it, as a user of the
# installed package would, into "$work/project". $work is a temporary folder
# removed when the test exits.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$1" --prefix "$work/prefix" >/dev/null
cmake -S "$2" -B "$work/project" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/project" >/dev/null
