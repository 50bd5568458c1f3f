#!/usr/bin/env bash
# fuzz.sh [SECONDS] [NAME...]: builds the libFuzzer targets with clang, ASan
# and UBSan (into build-fuzz/) and runs each fuzzer (all, or the NAMEs given:
# gguf, gguf_header, tokenizer, chat_template, graph_api, bench_json) for
# SECONDS (default 60) per fuzzer from its checked-in seed corpus
# (tests/fuzz/corpus/<name>/, copied: what the run finds is not written
# back). The tokenizer fuzzer reads SmolLM2 and Gemma 3, fetched here
# (scripts/fetch-model.sh) unless TESSERA_SMOLLM2 / TESSERA_GEMMA3 name them.
# Stops at the first crash, sanitizer report, leak or input slower than
# 10 s, leaving that input in build-fuzz/artifacts/ and exiting non-zero.
# Longer by hand: scripts/fuzz.sh 3600 graph_api.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=(gguf gguf_header tokenizer chat_template graph_api bench_json)
targets=""
for f in "${fuzzers[@]}"; do targets+="fuzz_$f "; done
if [[ " ${fuzzers[*]} " == *" tokenizer "* ]]; then
  TESSERA_SMOLLM2=${TESSERA_SMOLLM2:-$(scripts/fetch-model.sh smollm2)}
  TESSERA_GEMMA3=${TESSERA_GEMMA3:-$(scripts/fetch-model.sh gemma3)}
  export TESSERA_SMOLLM2 TESSERA_GEMMA3
fi
mkdir -p build-fuzz
build_start=$(date +%s)
# Tools on: fuzz_bench_json links tessera-bench's library (only the fuzz
# targets are built).
CC=clang CXX=clang++ TESSERA_BUILD_TARGETS="$targets" scripts/build.sh build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTESSERA_FUZZ=ON -DTESSERA_ONEDNN=OFF -DTESSERA_VULKAN=OFF -DTESSERA_OPENCL=OFF -DTESSERA_CUDA=OFF \
  -DTESSERA_HIP=OFF -DTESSERA_MPI=OFF -DTESSERA_SERVER=OFF -DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_TOOLS=ON \
  -DTESSERA_BUILD_BENCHMARKS=OFF >build-fuzz/build.log 2>&1 || { tail -30 build-fuzz/build.log; exit 1; }
echo "== fuzzers built in $(($(date +%s) - build_start)) s"
mkdir -p build-fuzz/artifacts
for f in "${fuzzers[@]}"; do
  work=build-fuzz/corpus-$f
  rm -rf "$work" && mkdir -p "$work"
  cp tests/fuzz/corpus/$f/* "$work"/
  echo "== fuzz_$f: $secs s from $(ls tests/fuzz/corpus/$f | wc -l) seeds"
  # -rss_limit_mb (and the malloc limit it implies): an input that makes the
  # library allocate without bound fails here as it would in a user's process.
  asan=detect_leaks=1
  # A huge tensor on the null device: calloc must return null there, as it
  # does outside ASan, for the library to report it (fuzz_graph_api.cpp).
  [ "$f" != graph_api ] || asan+=:allocator_may_return_null=1
  set +e
  ASAN_OPTIONS=$asan UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    build-fuzz/tests/fuzz/fuzz_$f -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/artifacts/$f- "$work" >build-fuzz/fuzz_$f.log 2>&1
  rc=$?
  set -e
  grep -E "^#[0-9]+.*DONE|stat::(number_of_executed_units|new_units_added|peak_rss)" build-fuzz/fuzz_$f.log || true
  if [ $rc != 0 ]; then
    grep -E "ERROR|SUMMARY|Test unit written" build-fuzz/fuzz_$f.log | head -5
    echo "fuzz_$f FAILED (exit $rc): the input is in build-fuzz/artifacts/, the log in build-fuzz/fuzz_$f.log"
    exit 1
  fi
done
