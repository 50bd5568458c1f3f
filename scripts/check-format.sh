#!/usr/bin/env bash
# Fails if a tracked C/C++ file differs from clang-format's output.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=()
while IFS= read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.c' '*.cc' '*.cpp' '*.cu' '*.h' '*.hpp')
if [ ${#bad[@]} -ne 0 ]; then
  echo "not clang-formatted (run clang-format -i):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "format: ok"
