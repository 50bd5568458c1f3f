#!/usr/bin/env bash
# gpu-check.sh [--device vulkan:N] [--allow-cpu] [--out DIR]
# On a machine with a GPU: builds Tessera (Release, into build-gpu/), then for
# the first Vulkan device that is not a CPU (or the one named):
#   1. tessera-conformance --device D (every op and dtype)
#   2. SmolLM2 on D against the CPU backend: max abs logit error, 32 greedy tokens
#   3. a short benchmark: SmolLM2 prompt (128 tokens) and decode (128 tokens)
#      tokens/s on D and on the CPU, side by side
# and prints one summary table; JSON/text results go to DIR (default
# gpu-check-out/). --allow-cpu accepts a CPU Vulkan device (lavapipe: a dry
# run of this script on a machine without a GPU). Needs what
# scripts/install-deps.sh installs plus the GPU's Vulkan driver; no network
# beyond PyPI for the model (scripts/fetch-model.sh, cached).
set -uo pipefail
cd "$(dirname "$0")/.."
device="" allow_cpu=0 out=gpu-check-out
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --allow-cpu) allow_cpu=1; shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--device vulkan:N] [--allow-cpu] [--out DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)"; }

step "build"
scripts/build.sh build-gpu -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=OFF >"$out/build.log" 2>&1 ||
  { tail -30 "$out/build.log"; echo "build failed"; exit 1; }
info=build-gpu/tools/tessera-info
$info | tee "$out/devices.txt"
if [ -z "$device" ]; then
  device=$(grep -E '^  vulkan:[0-9]+ ' "$out/devices.txt" | grep -v '| cpu |' | awk '{print $1}' | head -1)
  if [ -z "$device" ] && [ $allow_cpu = 1 ]; then
    device=$(grep -E '^  vulkan:[0-9]+ ' "$out/devices.txt" | awk '{print $1}' | head -1)
  fi
fi
[ -n "$device" ] || { echo "no Vulkan GPU listed (see the notes above); --allow-cpu for lavapipe"; exit 1; }
name=$(grep -E "^  $device " "$out/devices.txt" | sed -E "s/^  $device +//; s/ \|.*//")
echo "device: $device ($name)"

step "conformance on $device"
build-gpu/tools/conformance/tessera-conformance --device "$device" --json "$out/conformance.json" \
  >"$out/conformance.txt" 2>&1
conf_rc=$?
tail -1 "$out/conformance.txt"

step "SmolLM2 on $device vs cpu"
model=$(scripts/fetch-model.sh smollm2) || { echo "cannot fetch SmolLM2"; exit 1; }
python3 tests/backends/vulkan/compare_devices.py "$model" --tessera build-gpu/tools/tessera-run \
  --device "$device" --ref cpu -n 32 >"$out/smollm2_compare.txt" 2>&1
cmp_rc=$?
cat "$out/smollm2_compare.txt"

step "benchmark: SmolLM2 pp128 / tg128"
prompt=$(python3 -c "print(','.join(str(1 + (i * 7919) % 4000) for i in range(128)))")
bench() {  # device -> "prompt_tok_s decode_tok_s"
  build-gpu/tools/tessera-run -m "$model" --device "$1" --prompt-tokens "$prompt" -n 128 --temp 0 \
    --ignore-eos --json 2>/dev/null | tail -1 >"$out/bench_${1/:/_}.json"
  python3 -c "import json,sys; o=json.load(open(sys.argv[1])); print(f\"{o['prefill_tokens_per_second']:.1f} {o['decode_tokens_per_second']:.1f}\")" \
    "$out/bench_${1/:/_}.json" 2>/dev/null || echo "- -"
}
read -r gpu_pp gpu_tg < <(bench "$device")
read -r cpu_pp cpu_tg < <(bench cpu)

err=$(grep -oE 'max abs error [0-9.e+-]+' "$out/smollm2_compare.txt" | awk '{print $4}')
toks=$(grep -oE 'greedy tokens: .*' "$out/smollm2_compare.txt" | sed 's/greedy tokens: //')
echo
echo "Tessera GPU check: $device ($name), $(git rev-parse --short HEAD 2>/dev/null), $(( $(date +%s) - start )) s"
printf '%-34s %s\n' "conformance ($device)" "$(tail -1 "$out/conformance.txt")"
printf '%-34s %s\n' "SmolLM2 logits vs cpu" "max abs error ${err:-?}"
printf '%-34s %s\n' "SmolLM2 greedy tokens vs cpu" "${toks:-?}"
printf '%-34s %10s %10s\n' "SmolLM2 Q4_1 tokens/s" "pp128" "tg128"
printf '%-34s %10s %10s\n' "  $device" "$gpu_pp" "$gpu_tg"
printf '%-34s %10s %10s\n' "  cpu" "$cpu_pp" "$cpu_tg"
echo "results in $out/"
[ $conf_rc = 0 ] && [ $cmp_rc = 0 ]
