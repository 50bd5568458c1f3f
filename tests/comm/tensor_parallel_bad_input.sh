#!/usr/bin/env bash
# A tensor-parallel job that goes wrong ends on every rank with a clear
# error, within its timeout, never a hang (issue: scale out, bad input):
#   1. ranks with different options are refused at load, naming the rank;
#   2. ranks with different models are refused at load (when gemma3 is cached);
#   3. a rank that runs alone (no --tensor-parallel) never joins MPI: the
#      launcher ends the job when it exits, or the other rank's load fails
#      after --comm-timeout, whichever comes first;
#   4. a rank that stops mid-generation (SIGSTOP) makes the other fail after
#      --comm-timeout, and the job ends (the stopped rank is killed);
#   5. a rank that fails alone at load (a device it does not have) ends the
#      job at once (tsr_context_comm_abort), not after the others' timeout.
#
#   tensor_parallel_bad_input.sh MPIEXEC TESSERA_RUN FETCH_MODEL
set -uo pipefail
mpiexec=$1 run=$2 fetch=$3
model=$("$fetch" smollm2) || exit 1
fail=0

# expect NAME MAX_SECONDS REGEX -- COMMAND...: the command fails, within
# MAX_SECONDS, printing a line matching REGEX.
expect() {
  local name=$1 max=$2 regex=$3
  shift 4
  local t0=$SECONDS out rc
  out=$(timeout $((max + 30)) "$@" 2>&1)
  rc=$?
  local took=$((SECONDS - t0))
  if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $took -gt "$max" ] || ! grep -Eq "$regex" <<<"$out"; then
    echo "FAIL $name: exit $rc after ${took}s (limit ${max}s), expected /$regex/; output tail:"
    tail -c 2000 <<<"$out"
    fail=1
  else
    echo "ok   $name: exit $rc after ${took}s: $(grep -Em1 "$regex" <<<"$out" | cut -c1-220)"
  fi
}

common=(-p Hi --temp 0 --threads 1)
expect "different options" 60 "rank [01] has other options" -- \
  "$mpiexec" -np 2 bash -c 'exec "$0" -m "$1" "${@:2}" --tensor-parallel --ctx $((512 + 256 * OMPI_COMM_WORLD_RANK))' \
  "$run" "$model" "${common[@]}" -n 4

if gemma=$("$fetch" gemma3 2>/dev/null); then
  expect "different models" 60 "loaded a different model" -- \
    "$mpiexec" -np 2 bash -c 'm=$1; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && m=$2; exec "$0" -m "$m" "${@:3}" --tensor-parallel' \
    "$run" "$model" "$gemma" "${common[@]}" -n 4
else
  echo "skip different models: gemma3 not available"
fi

expect "one rank without --tensor-parallel" 60 "did not answer within 3 s|exiting improperly" -- \
  "$mpiexec" -np 2 bash -c 'tp=--tensor-parallel; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && tp=--json; exec "$0" -m "$1" "${@:2}" $tp --comm-timeout 3' \
  "$run" "$model" "${common[@]}" -n 4

expect "a rank stops" 60 "did not answer within 3 s" -- \
  "$mpiexec" -np 2 bash -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then (sleep 2; kill -STOP $$) & fi; exec "$0" -m "$1" "${@:2}" --tensor-parallel --comm-timeout 3' \
  "$run" "$model" "${common[@]}" -n -1 --ignore-eos

expect "one rank fails to load" 20 "unknown device 'cpu:1'" -- \
  "$mpiexec" -np 2 "$run" -m "$model" "${common[@]}" -n 4 --tensor-parallel --device "cpu:%r"

exit $fail
