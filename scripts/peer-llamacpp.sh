#!/usr/bin/env bash
# Tessera against llama.cpp on the CPU: the same GGUF, the same threads, the
# same tests as llama.cpp's llama-bench (pp512: a 512-token prompt into an
# empty KV cache; tg128: 128 single-token decodes), both engines alternating
# in one invocation because this machine's speed drifts. Not part of CI.
#
#   scripts/peer-llamacpp.sh [-m MODEL.gguf] [-t THREADS] [-p 512] [-n 128]
#                            [--reps N] [--out DIR] [--tessera PATH]
#
#   -m MODEL     GGUF file (default: SmolLM2-135M-Instruct Q4_1, fetched by
#                scripts/fetch-model.sh when missing)
#   -t THREADS   threads for both engines (default: every core, nproc)
#   -p N, -n N   prompt and generated tokens (default 512 and 128)
#   --reps N     timed repetitions per engine and test, after one warm-up (3)
#   --out DIR    results (default out/peer-llamacpp): llamacpp.json and
#                tessera.json in tessera-bench's schema, raw/ and peer.log
#   --tessera P  tessera-bench (preferred) or tessera-run; default: the first
#                Release build (build, then build-*) with tools/bench/tessera-bench,
#                else build/tools/tessera-run
#
# llama.cpp comes from the PyPI package llama-cpp-python (pinned below), built
# from source (OpenMP) into a virtual environment outside the checkout:
# $TESSERA_PEER_DIR/venv, default ~/.cache/tessera/peer/venv. That build takes
# tens of minutes on two cores, once per set of SIMD flags; later runs reuse
# it. Details: benchmarks/peer/README.md.
#
# SIMD flags come from a probe, not from -march=native: on the Intel machines
# of this kind AMX is listed in the CPU flags but faults in the virtual
# machine, and a GGML_NATIVE=ON build died with SIGILL in its AMX matmul.
# benchmarks/peer/isa_probe.c executes one instruction of each extension ggml
# can use; only those that ran are turned on (GGML_NATIVE=OFF).
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
# llama-cpp-python's CMakeLists does not turn these off on Linux, but say them
# so that a changed default upstream cannot silently give a different build:
# OpenMP threads as llama-bench builds use, one CPU variant, and none of the
# executables, tests or the multimodal library. The SIMD flags are added below.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_OPENMP=ON -DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF"
LLAMA_CMAKE_ARGS+=" -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
LLAMA_CMAKE_ARGS+=" -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"

die() {
  echo "peer-llamacpp: error: $*" >&2
  exit 1
}
log() { echo "peer-llamacpp: $*" >&2; }
usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; }

root=$(cd "$(dirname "$0")/.." && pwd)
runner=$root/benchmarks/peer/llamacpp_bench.py
peer_dir=${TESSERA_PEER_DIR:-$HOME/.cache/tessera/peer}
venv=$peer_dir/venv

model=""
threads=$(nproc 2>/dev/null || echo 1)
n_prompt=512
n_gen=128
reps=3
out=$root/out/peer-llamacpp
tessera=""
command_line="scripts/peer-llamacpp.sh $*"

need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
is_count() { [[ $1 =~ ^(0|[1-9][0-9]*)$ ]]; }
is_positive() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -m | --model) need_value "$@"; model=$2; shift 2 ;;
    -t | --threads) need_value "$@"; threads=$2; shift 2 ;;
    -p | --n-prompt) need_value "$@"; n_prompt=$2; shift 2 ;;
    -n | --n-gen) need_value "$@"; n_gen=$2; shift 2 ;;
    --reps) need_value "$@"; reps=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --tessera) need_value "$@"; tessera=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

is_positive "$threads" || die "-t wants a positive thread count, got '$threads'"
is_count "$n_prompt" || die "-p wants a token count >= 0, got '$n_prompt'"
is_count "$n_gen" || die "-n wants a token count >= 0, got '$n_gen'"
((n_prompt + n_gen > 0)) || die "nothing to measure: -p and -n are both 0"
is_positive "$reps" || die "--reps wants a positive count, got '$reps'"

# ---- model ---------------------------------------------------------------------
if [[ -z $model ]]; then
  model=${TESSERA_MODEL_DIR:-$HOME/.cache/tessera/models}/SmolLM2-135M-Instruct.Q4_1.gguf
  if [[ ! -f $model ]]; then
    model=$("$root/scripts/fetch-model.sh" smollm2) || die "scripts/fetch-model.sh smollm2 failed"
  fi
fi
[[ -f $model ]] || die "model not found: $model"
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")

# ---- Tessera binary --------------------------------------------------------------
# A build counts when it is Release and not sanitized: numbers from a Debug or
# ASan build would say nothing about throughput.
release_build() {
  local cache=$1/CMakeCache.txt
  [[ -f $cache ]] && grep -q '^CMAKE_BUILD_TYPE:[A-Z]*=Release$' "$cache" &&
    ! grep -qE '^TESSERA_SANITIZE(_THREAD)?:[A-Z]*=ON$' "$cache"
}

find_tessera() {
  local dir bin
  for dir in "$root/build" "$root"/build-*; do
    release_build "$dir" || continue
    for bin in "$dir/tools/bench/tessera-bench" "$dir/tools/tessera-bench"; do
      if [[ -x $bin ]]; then
        echo "$bin"
        return
      fi
    done
  done
  if [[ -x $root/build/tools/tessera-run ]] && release_build "$root/build"; then
    echo "$root/build/tools/tessera-run"
  fi
}

if [[ -z $tessera ]]; then
  tessera=$(find_tessera)
  [[ -n $tessera ]] || die "no Release build of tessera-bench or tessera-run; build one with
  cmake -S $root -B $root/build -DCMAKE_BUILD_TYPE=Release && cmake --build $root/build -j
or pass --tessera PATH"
fi
[[ -f $tessera && -x $tessera ]] || die "--tessera: not an executable: $tessera"
case "$(basename "$tessera")" in
  tessera-bench* | tessera-run*) ;;
  *) die "--tessera wants tessera-bench or tessera-run, got $tessera" ;;
esac

# ---- SIMD flags for llama.cpp, from what this CPU executes -------------------------
# ggml option -> isa_probe feature. Every option is said ON or OFF, so that
# ggml's own defaults cannot add an extension the probe did not run.
simd_features=(AVX:avx AVX2:avx2 FMA:fma F16C:f16c BMI2:bmi2 AVX512:avx512 AVX512_VBMI:avx512_vbmi
               AVX512_VNNI:avx512_vnni AVX512_BF16:avx512_bf16 AVX_VNNI:avx_vnni AMX_TILE:amx_tile
               AMX_INT8:amx_int8 AMX_BF16:amx_bf16)
probe_simd() {
  command -v cc >/dev/null || die "a C compiler is required for the SIMD probe (apt-get install gcc)"
  mkdir -p "$peer_dir" || die "cannot create $peer_dir"
  local probe=$peer_dir/isa_probe on=() off=() opt feat rc
  cc -O1 -o "$probe" "$root/benchmarks/peer/isa_probe.c" || die "cannot compile benchmarks/peer/isa_probe.c"
  for opt in "${simd_features[@]}"; do
    feat=${opt#*:}
    opt=${opt%%:*}
    rc=0
    { "$probe" "$feat"; } 2>/dev/null || rc=$?  # the group also quiets bash's "Illegal instruction"
    if [[ $rc -eq 0 ]]; then
      on+=("$feat")
      LLAMA_CMAKE_ARGS+=" -DGGML_$opt=ON"
    else
      # 132: SIGILL, the CPU cannot execute it; 1: the OS refused AMX state.
      off+=("$feat($([[ $rc -eq 132 ]] && echo sigill || { [[ $rc -eq 1 ]] && echo os-refused || echo "exit $rc"; }))")
      LLAMA_CMAKE_ARGS+=" -DGGML_$opt=OFF"
    fi
  done
  log "SIMD probe: executes ${on[*]:-nothing}; not: ${off[*]:-none}"
}
probe_simd

# ---- llama.cpp, through llama-cpp-python -------------------------------------------
stamp=$venv/.tessera-peer-build
want_stamp="llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION $LLAMA_CMAKE_ARGS"

venv_ready() {
  [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want_stamp" ]] &&
    "$venv/bin/python" -c 'import llama_cpp' >/dev/null 2>&1
}

install_llama() {
  command -v python3 >/dev/null || die "python3 is required"
  command -v c++ >/dev/null || die "a C++ compiler is required to build llama.cpp (apt-get install g++)"
  mkdir -p "$peer_dir" || die "cannot create $peer_dir"
  if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv" ||
      die "python3 -m venv $venv failed (on Debian: apt-get install python3-venv)"
  fi
  local install_log=$peer_dir/install.log start=$SECONDS
  log "building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION from source for this CPU (one time;"
  log "  tens of minutes on two cores); log: $install_log"
  rm -f "$stamp"
  # --no-cache-dir: pip would otherwise cache the wheel it builds and reuse it
  # whatever CMAKE_ARGS say, or on another CPU sharing this home directory.
  if ! CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    nice -n 10 "$venv/bin/python" -m pip install --verbose --no-cache-dir --no-binary llama-cpp-python \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >"$install_log" 2>&1; then
    tail -n 20 "$install_log" >&2
    die "pip install llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION failed; full log: $install_log"
  fi
  grep -q -- '-march=native' "$install_log" &&
    log "warning: the build log shows -march=native although GGML_NATIVE=OFF; check $install_log"
  echo "$want_stamp" >"$stamp"
  local took=$((SECONDS - start))
  echo "$took" >"$peer_dir/install-seconds"
  log "llama-cpp-python built and installed in $((took / 60)) min $((took % 60)) s (one-time cost;"
  log "  later runs reuse $venv)"
}

if venv_ready; then
  log "reusing llama-cpp-python in $venv"
else
  install_llama
  venv_ready || die "llama_cpp does not import from $venv after installing; see $peer_dir/install.log"
fi

# ---- the comparison ----------------------------------------------------------------
log "model $model, $threads threads, tessera: $tessera"
log "llama.cpp built with: $LLAMA_CMAKE_ARGS"
exec "$venv/bin/python" "$runner" peer -m "$model" -t "$threads" -p "$n_prompt" -n "$n_gen" \
  --reps "$reps" --out "$out" --python "$venv/bin/python" --tessera "$tessera" --command "$command_line"
