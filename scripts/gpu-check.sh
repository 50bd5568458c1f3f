#!/usr/bin/env bash
# gpu-check.sh [--device cuda:0|hip:0|vulkan:N|opencl:N] [--allow-cpu] [--out DIR] [--quick] [--build-only]
# On a machine with a GPU: builds Tessera (Release, into build-gpu/), then for
# the device named (default: the first CUDA device, else HIP, else the first
# Vulkan device that is not a CPU, else the first such OpenCL device):
#   1. tessera-conformance --device D (every op and dtype)
#   2. SmolLM2 on D against the CPU backend (max abs logit error, 32 greedy
#      tokens) and against the numpy oracle
#   3. tessera-bench e2e pp512 / tg128 on D and on the CPU, side by side
#   4. tessera-bench ops on D (SmolLM2 shapes and "gemm f32 1024"); on CUDA
#      also the GEMM through Tessera's own kernels (TESSERA_CUDA_CUBLAS=0) and
#      cuBLAS itself (tessera-cublas-gemm), as ratios
#   5. the llama.cpp peer on D, where a GPU build of llama-cpp-python is
#      already installed (this script installs nothing from the network)
#   6. with two or more CUDA (HIP) GPUs, Open MPI and the MPI communicator
#      built: SmolLM2 tensor parallel over 2 ranks, one GPU each, through
#      NCCL (RCCL), against one process on D; skipped with the reason otherwise
# and prints one summary table; JSON and logs go to DIR (default
# gpu-check-out/). --allow-cpu accepts a CPU Vulkan or OpenCL device
# (lavapipe, PoCL) for a dry run without a GPU; --quick skips the op benchmarks; --build-only stops
# after the build and the device listing (what a machine without a GPU can
# check of this script). The model comes from
# $TESSERA_SMOLLM2 or scripts/fetch-model.sh (cached).
set -uo pipefail
cd "$(dirname "$0")/.."
device="" allow_cpu=0 out=gpu-check-out quick=0 build_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --allow-cpu) allow_cpu=1; shift ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --build-only) build_only=1; shift ;;
    *) echo "usage: $0 [--device cuda:0|hip:0|vulkan:N|opencl:N] [--allow-cpu] [--out DIR] [--quick] [--build-only]" >&2
       exit 2 ;;
  esac
done
mkdir -p "$out"
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)"; }
bin=build-gpu/tools

step "build"
scripts/build.sh build-gpu -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_BENCHMARKS=ON \
  >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; echo "build failed"; exit 1; }
grep -E "Tessera backends:" "$out/build.log" | tail -1
$bin/tessera-info | tee "$out/devices.txt"
for t in $bin/conformance/tessera-conformance $bin/tessera-run $bin/bench/tessera-bench; do
  [ -x $t ] || { echo "build did not produce $t"; exit 1; }
done
if [ $build_only = 1 ]; then
  ls build-gpu/benchmarks/cuda/tessera-cublas-gemm 2>/dev/null || echo "(no tessera-cublas-gemm: built without CUDA)"
  echo "build-only: done in $(( $(date +%s) - start )) s"
  exit 0
fi
listed() { grep -E "^  $1:[0-9]+ " "$out/devices.txt" | awk '{print $1}'; }
if [ -z "$device" ]; then
  device=$(listed cuda | head -1)
  [ -n "$device" ] || device=$(listed hip | head -1)
  [ -n "$device" ] || device=$(grep -E '^  vulkan:[0-9]+ ' "$out/devices.txt" | grep -v '| cpu |' | awk '{print $1}' | head -1)
  [ -n "$device" ] || device=$(grep -E '^  opencl:[0-9]+ ' "$out/devices.txt" | grep -v '| cpu |' | awk '{print $1}' | head -1)
  if [ -z "$device" ] && [ $allow_cpu = 1 ]; then device=$(listed vulkan | head -1); fi
  if [ -z "$device" ] && [ $allow_cpu = 1 ]; then device=$(listed opencl | head -1); fi
fi
[ -n "$device" ] || { echo "no GPU listed (see the notes above); --allow-cpu for lavapipe or PoCL"; exit 1; }
grep -qE "^  $device " "$out/devices.txt" || { echo "$device is not listed"; exit 1; }
backend=${device%%:*}
name=$(grep -E "^  $device " "$out/devices.txt" | sed -E "s/^  $device +//; s/ \|.*//")
echo "device: $device ($name)"

step "conformance on $device"
$bin/conformance/tessera-conformance --device "$device" --json "$out/conformance.json" >"$out/conformance.txt" 2>&1
conf_rc=$?
tail -1 "$out/conformance.txt"

model=${TESSERA_SMOLLM2:-$(scripts/fetch-model.sh smollm2 2>/dev/null)}
cmp_rc=1 oracle_rc=1
if [ -f "$model" ]; then
  step "SmolLM2 on $device vs cpu"
  python3 tests/models/compare_devices.py "$model" --tessera $bin/tessera-run --device "$device" --ref cpu -n 32 \
    >"$out/smollm2_compare.txt" 2>&1
  cmp_rc=$?
  cat "$out/smollm2_compare.txt"
  step "SmolLM2 on $device vs the numpy oracle"
  python3 tests/oracle/compare.py "$model" --tessera $bin/tessera-run --device "$device" >"$out/oracle.txt" 2>&1
  oracle_rc=$?
  tail -3 "$out/oracle.txt"
  step "tessera-bench e2e pp512 / tg128 on $device and cpu"
  $bin/bench/tessera-bench e2e -m "$model" --device "$device" --device cpu -p 512 -n 128 --reps 3 \
    --json "$out/e2e.json" >"$out/e2e.txt" 2>&1 || echo "e2e failed: see $out/e2e.txt"
else
  echo "no SmolLM2 model (set TESSERA_SMOLLM2 or run scripts/fetch-model.sh smollm2): model steps skipped"
fi

if [ $quick = 0 ]; then
  step "tessera-bench ops on $device"
  $bin/bench/tessera-bench ops --device "$device" --json "$out/ops.json" >"$out/ops.txt" 2>&1 ||
    echo "ops failed: see $out/ops.txt"
  if [ "$backend" = cuda ]; then
    TESSERA_CUDA_CUBLAS=0 $bin/bench/tessera-bench ops --device "$device" --filter gemm --json "$out/ops_own_gemm.json" \
      >"$out/ops_own_gemm.txt" 2>&1 || echo "own-kernel gemm failed: see $out/ops_own_gemm.txt"
    if [ -x build-gpu/benchmarks/cuda/tessera-cublas-gemm ]; then
      build-gpu/benchmarks/cuda/tessera-cublas-gemm >"$out/cublas.json" 2>"$out/cublas.err" ||
        echo "tessera-cublas-gemm failed: $(cat "$out/cublas.err")"
    fi
  fi
fi

peer="skipped"
if python3 -c "import llama_cpp, sys; sys.exit(0 if llama_cpp.llama_supports_gpu_offload() else 1)" 2>/dev/null &&
   [ -f "$model" ]; then
  step "llama.cpp peer on the GPU"
  python3 benchmarks/peer/llamacpp_bench.py llama --model "$model" -t "$(nproc)" -p 512 -n 128 --reps 3 --n-gpu-layers 999 \
    --json "$out/peer.json" >"$out/peer.txt" 2>&1 && peer="see $out/peer.json" || peer="failed: see $out/peer.txt"
else
  peer="skipped: no GPU build of llama-cpp-python here (pip install with CMAKE_ARGS=-DGGML_CUDA=on)"
fi

tp="skipped"
n_gpus=$(listed "$backend" | wc -l)
if [ "$backend" != cuda ] && [ "$backend" != hip ]; then
  tp="skipped: $backend has no device collectives (NCCL/RCCL are for cuda/hip)"
elif [ "$n_gpus" -lt 2 ]; then
  tp="skipped: $n_gpus $backend device(s); tensor parallel needs 2"
elif ! command -v mpirun >/dev/null || [ ! -f build-gpu/lib/tessera/libtessera-comm-mpi.so ]; then
  tp="skipped: no mpirun or no MPI communicator built (apt-get install libopenmpi-dev openmpi-bin)"
elif [ ! -f "$model" ]; then
  tp="skipped: no SmolLM2 model"
else
  step "tensor parallel: 2 ranks on $backend:0 and $backend:1 vs one process on $device"
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # NCCL's init has no timeout of its own: the step has one.
  if timeout 900 python3 tests/models/compare_devices.py "$model" --tessera $bin/tessera-run --device "$backend:%r" \
       --ref "$device" --tensor-parallel 2 --mpiexec mpirun -n 32 >"$out/tp.txt" 2>&1; then
    tp="pass: $(grep -m1 'max abs error' "$out/tp.txt" | sed 's/^ *//')"
  else
    tp="FAIL: see $out/tp.txt"
  fi
  timeout 300 mpirun -np 2 $bin/tessera-run -m "$model" -p Hi -n 1 --temp 0 --device "$backend:%r" --tensor-parallel \
    --placement >"$out/tp_placement.txt" 2>&1
  line=$(grep -m1 '^collectives on' "$out/tp_placement.txt")
  case "$line" in
    *"cl on the device"*) tp="$tp; $line" ;;
    *) tp="FAIL (collectives not on the device: ${line:-no placement}); $tp" ;;
  esac
fi

# One table from the JSON files.
python3 - "$out" "$device" "$name" "$(git rev-parse --short HEAD 2>/dev/null)" "$(( $(date +%s) - start ))" \
  "$peer" "$tp" <<'EOF'
import json, os, re, sys
out, device, name, commit, secs, peer, tp = sys.argv[1:8]
def load(f):
    try:
        return json.load(open(os.path.join(out, f)))
    except Exception:
        return None
def text(f):
    try:
        return open(os.path.join(out, f)).read()
    except Exception:
        return ""
print(f"\nTessera GPU check: {device} ({name}), commit {commit}, {secs} s")
rows = []
conf = text("conformance.txt").strip().splitlines()
rows.append((f"conformance ({device})", conf[-1] if conf else "did not run"))
m = re.search(r"max abs error ([0-9.eE+-]+)", text("smollm2_compare.txt"))
rows.append(("SmolLM2 logits vs cpu", f"max abs error {m.group(1)}" if m else "did not run"))
m = re.search(r"greedy tokens: (.*)", text("smollm2_compare.txt"))
rows.append(("SmolLM2 greedy tokens vs cpu", m.group(1) if m else "did not run"))
o = text("oracle.txt").strip().splitlines()
rows.append(("SmolLM2 vs numpy oracle", o[-1] if o else "did not run"))
e2e = load("e2e.json")
if e2e:
    for r in e2e["results"]:
        if r.get("kind") == "e2e":
            rows.append((f"e2e {r['test']} {r['device']}", f"{r['tokens_per_second']:.1f} tok/s"))
def gemm(doc, key="name"):
    if not doc:
        return None
    for r in doc.get("results", []):
        if r.get(key) == "gemm f32 1024" and r.get("status", "ok") == "ok":
            return r
    return None
node, own, cub = gemm(load("ops.json")), gemm(load("ops_own_gemm.json")), gemm(load("cublas.json"))
if node:
    rows.append(("gemm f32 1024, Tessera matmul", f"{node['gflops']:.0f} GFLOP/s"))
if own:
    rows.append(("gemm f32 1024, own kernels", f"{own['gflops']:.0f} GFLOP/s"))
if cub:
    rows.append(("gemm f32 1024, cuBLAS itself", f"{cub['gflops']:.0f} GFLOP/s"))
    if node:
        rows.append(("  Tessera matmul / cuBLAS", f"{node['gflops'] / cub['gflops']:.2f}"))
    if own:
        rows.append(("  own kernels / cuBLAS", f"{own['gflops'] / cub['gflops']:.2f}"))
ops = load("ops.json")
if ops:
    ok = [r for r in ops["results"] if r.get("status") == "ok"]
    bad = [r for r in ops["results"] if r.get("status") != "ok"]
    rows.append(("op workloads", f"{len(ok)} ok, {len(bad)} not ok"))
rows.append(("llama.cpp peer", peer))
rows.append(("tensor parallel, 2 GPUs", tp))
for k, v in rows:
    print(f"{k:<34} {v}")
print(f"results in {out}/")
EOF
[ $conf_rc = 0 ] && [ $cmp_rc = 0 ] && [ $oracle_rc = 0 ]
