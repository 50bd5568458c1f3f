#!/usr/bin/env bash
# tessera-server against llama.cpp's own HTTP server (llama-server) under the
# same load: benchmarks/server/loadgen.py sends the same streaming chat
# requests (fixed prompt, max_tokens, temperature 0) at each concurrency
# level to one server, then to the other, each alone on the machine, with the
# same GGUF, threads and slots. Loopback only. Not part of CI.
#
#   scripts/peer-llamacpp-server.sh [-m MODEL.gguf] [-t THREADS] [--parallel N] [--ctx N]
#                                   [--concurrency 1,4,16] [--requests N] [--max-tokens N]
#                                   [--time-limit S] [--out DIR] [--tessera-server PATH]
#                                   [--jobs J] [--prompt-cache] [--build-only]
#
#   -m MODEL          GGUF file (default: SmolLM2-135M-Instruct Q4_1, fetched by
#                     scripts/fetch-model.sh when missing)
#   -t THREADS        threads for both servers (default: every core, nproc)
#   --parallel N      slots of each server (default 16): tessera-server --parallel,
#                     llama-server -np
#   --ctx N           context per slot (default 2048; llama-server gets -c N*parallel)
#   --concurrency L   loadgen's levels (default 1,4,16); --requests per level (32),
#   --max-tokens N    tokens per request (64); --time-limit per server (600 s)
#   --out DIR         results (default out/peer-llamacpp-server): tessera.json,
#                     llamacpp.json and each server's log
#   --tessera-server P  default: build/tools/server/tessera-server (a Release build)
#   --jobs J          compile jobs for llama-server (default 1; the build runs at nice 19)
#   --prompt-cache    let both servers reuse cached prompts: every request here
#                     has the same prompt, so its prefill is then skipped. By
#                     default neither does (tessera-server --no-prompt-cache,
#                     llama-server requests "cache_prompt": false), so both
#                     compute every prompt. (--llama-prompt-cache: the same.)
#   --build-only      build llama-server and stop
#
# llama-server is built with CMake from the llama.cpp sources that the PyPI
# sdist of llama-cpp-python carries (vendor/llama.cpp), the version
# scripts/peer-llamacpp.sh pins; pip download is the only download (no web UI
# assets, no HTTPS, no curl). The build lives outside the checkout:
# $TESSERA_PEER_DIR (default ~/.cache/tessera/peer)/llama-server-build, reused
# while its CMake arguments stay the same. CPU only; the SIMD flags come from
# benchmarks/peer/isa_probe.c, as in scripts/peer-llamacpp.sh (AMX faults in
# these virtual machines although the CPU flags list it; here it is off).
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
# The server and what it links, nothing else: no UI (LLAMA_USE_PREBUILT_UI
# would download it), no OpenSSL, no tests or examples. OpenMP threads and one
# CPU variant as peer-llamacpp.sh builds them; SIMD flags are added below.
LLAMA_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_OPENMP=ON -DGGML_BACKEND_DL=OFF"
LLAMA_CMAKE_ARGS+=" -DGGML_CPU_ALL_VARIANTS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
LLAMA_CMAKE_ARGS+=" -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF"
LLAMA_CMAKE_ARGS+=" -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF"

die() {
  echo "peer-llamacpp-server: error: $*" >&2
  exit 1
}
log() { echo "peer-llamacpp-server: $*" >&2; }
usage() { sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; }

root=$(cd "$(dirname "$0")/.." && pwd)
peer_dir=${TESSERA_PEER_DIR:-$HOME/.cache/tessera/peer}
src_dir=$peer_dir/src
build_dir=$peer_dir/llama-server-build

model=""
threads=$(nproc 2>/dev/null || echo 1)
parallel=16
ctx=2048
concurrency=1,4,16
requests=32
max_tokens=64
time_limit=600
out=$root/out/peer-llamacpp-server
tessera=$root/build/tools/server/tessera-server
jobs=1
build_only=0
llama_extra='{"cache_prompt": false}'
tessera_cache=(--no-prompt-cache)


need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
is_positive() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -m | --model) need_value "$@"; model=$2; shift 2 ;;
    -t | --threads) need_value "$@"; threads=$2; shift 2 ;;
    --parallel) need_value "$@"; parallel=$2; shift 2 ;;
    --ctx) need_value "$@"; ctx=$2; shift 2 ;;
    --concurrency) need_value "$@"; concurrency=$2; shift 2 ;;
    --requests) need_value "$@"; requests=$2; shift 2 ;;
    --max-tokens) need_value "$@"; max_tokens=$2; shift 2 ;;
    --time-limit) need_value "$@"; time_limit=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --tessera-server) need_value "$@"; tessera=$2; shift 2 ;;
    --jobs) need_value "$@"; jobs=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --prompt-cache | --llama-prompt-cache) llama_extra='{}'; tessera_cache=(); shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for v in threads parallel ctx requests max_tokens time_limit jobs; do
  is_positive "${!v}" || die "--${v//_/-} wants a positive integer, got '${!v}'"
done
[[ $concurrency =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--concurrency wants levels like 1,4,16, got '$concurrency'"

# ---- SIMD flags, from what this CPU executes (as scripts/peer-llamacpp.sh) ----------
# AMX stays off whatever the probe says: on this kind of machine the probe
# ran its AMX instruction, yet llama-server died with SIGILL on tilezero in
# ggml's AMX q4_1 kernel while loading SmolLM2.
simd_features=(AVX:avx AVX2:avx2 FMA:fma F16C:f16c BMI2:bmi2 AVX512:avx512 AVX512_VBMI:avx512_vbmi
               AVX512_VNNI:avx512_vnni AVX512_BF16:avx512_bf16 AVX_VNNI:avx_vnni)
LLAMA_CMAKE_ARGS+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
command -v cc >/dev/null || die "a C compiler is required for the SIMD probe (apt-get install gcc)"
mkdir -p "$peer_dir" || die "cannot create $peer_dir"
probe=$peer_dir/isa_probe
cc -O1 -o "$probe" "$root/benchmarks/peer/isa_probe.c" || die "cannot compile benchmarks/peer/isa_probe.c"
simd_on=()
for opt in "${simd_features[@]}"; do
  rc=0
  { "$probe" "${opt#*:}"; } 2>/dev/null || rc=$?  # the group also quiets bash's "Illegal instruction"
  if [[ $rc -eq 0 ]]; then
    simd_on+=("${opt#*:}")
    LLAMA_CMAKE_ARGS+=" -DGGML_${opt%%:*}=ON"
  else
    LLAMA_CMAKE_ARGS+=" -DGGML_${opt%%:*}=OFF"
  fi
done
log "SIMD probe: executes ${simd_on[*]:-nothing}"

# ---- llama-server from the sdist's vendor/llama.cpp -----------------------------------
sdist=$src_dir/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz
llama_src=$src_dir/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp
server_bin=$build_dir/bin/llama-server
stamp=$build_dir/.tessera-peer-build
want_stamp="llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION $LLAMA_CMAKE_ARGS"

if [[ -x $server_bin && -f $stamp && $(cat "$stamp") == "$want_stamp" ]]; then
  log "reusing $server_bin"
else
  command -v cmake >/dev/null || die "cmake is required (apt-get install cmake)"
  mkdir -p "$src_dir"
  if [[ ! -f $sdist ]]; then
    log "pip download llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION (the sdist: llama.cpp's sources)"
    python3 -m pip download --quiet --no-deps --no-binary :all: -d "$src_dir" \
      "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" || die "pip download llama-cpp-python failed"
  fi
  if [[ ! -f $llama_src/tools/server/CMakeLists.txt ]]; then
    tar -xzf "$sdist" -C "$src_dir" || die "cannot unpack $sdist"
  fi
  [[ -f $llama_src/tools/server/CMakeLists.txt ]] || die "$sdist has no vendor/llama.cpp/tools/server"
  rm -f "$stamp"
  build_log=$peer_dir/llama-server-build.log
  log "building llama-server (nice 19, $jobs jobs; long on two cores); log: $build_log"
  start=$SECONDS
  # shellcheck disable=SC2086  # LLAMA_CMAKE_ARGS is a list of words
  if ! { nice -n 19 cmake -S "$llama_src" -B "$build_dir" $LLAMA_CMAKE_ARGS &&
    nice -n 19 cmake --build "$build_dir" --target llama-server -j "$jobs"; } >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    die "building llama-server failed; full log: $build_log"
  fi
  [[ -x $server_bin ]] || die "the build did not produce $server_bin; see $build_log"
  echo "$want_stamp" >"$stamp"
  log "llama-server built in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s"
fi
((build_only)) && exit 0

# ---- model and tessera-server -------------------------------------------------------
if [[ -z $model ]]; then
  model=${TESSERA_MODEL_DIR:-$HOME/.cache/tessera/models}/SmolLM2-135M-Instruct.Q4_1.gguf
  if [[ ! -f $model ]]; then
    model=$("$root/scripts/fetch-model.sh" smollm2) || die "scripts/fetch-model.sh smollm2 failed"
  fi
fi
[[ -f $model ]] || die "model not found: $model"
[[ -x $tessera ]] || die "--tessera-server: not an executable: $tessera (build the tessera-server target)"
cache=$(dirname "$(dirname "$(dirname "$tessera")")")/CMakeCache.txt
if [[ -f $cache ]] && ! grep -q '^CMAKE_BUILD_TYPE:[A-Z]*=Release$' "$cache"; then
  log "warning: $tessera is not from a Release build ($cache): its numbers say little"
fi
mkdir -p "$out"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts "$@" (a server on 127.0.0.1:$port), waits until /health answers 200,
# runs loadgen against it, then stops it with SIGTERM.
serve_and_load() {
  local label=$1 port=$2 extra=$3
  shift 3
  "$@" >"$out/$label.log" 2>&1 &
  local pid=$! ok=0
  for _ in $(seq 600); do
    if python3 - "$port" <<'EOF' 2>/dev/null; then
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
c.request("GET", "/health")
sys.exit(0 if c.getresponse().status == 200 else 1)
EOF
      ok=1
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if ((!ok)); then
    kill "$pid" 2>/dev/null || true
    tail -n 20 "$out/$label.log" >&2
    die "$label did not become healthy; log: $out/$label.log"
  fi
  log "$label is up on port $port; loading it"
  local rc=0
  python3 "$root/benchmarks/server/loadgen.py" --url "http://127.0.0.1:$port" --label "$label" \
    --concurrency "$concurrency" --requests "$requests" --max-tokens "$max_tokens" --time-limit "$time_limit" \
    --extra "$extra" \
    --json "$out/$label.json" >"$out/$label.table" || rc=$?
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ((rc == 0)) || log "warning: loadgen reported failed requests against $label (see $out/$label.table)"
}

log "model $model, $threads threads, $parallel slots of $ctx tokens, levels $concurrency, $requests requests, max_tokens $max_tokens"
port=$(free_port)
serve_and_load tessera "$port" '{}' "$tessera" -m "$model" --host 127.0.0.1 --port "$port" --threads "$threads" \
  --parallel "$parallel" --ctx "$ctx" --queue $((requests * 2)) "${tessera_cache[@]}"
port=$(free_port)
serve_and_load llamacpp "$port" "$llama_extra" "$server_bin" -m "$model" --host 127.0.0.1 --port "$port" -t "$threads" \
  -np "$parallel" -c $((ctx * parallel)) --no-webui

for label in tessera llamacpp; do
  echo "== $label"
  sed -n '1,/^{/p' "$out/$label.table" | sed '$d'
done
log "JSON: $out/tessera.json $out/llamacpp.json"
