#!/usr/bin/env bash
# The main job: install what is missing, build, and run the demo: a small
# llama-style transformer on the CPU backend, printing placement, planned
# memory and timing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null
exec build/tools/tessera-demo "$@"
