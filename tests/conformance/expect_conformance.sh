#!/usr/bin/env bash
# expect_conformance.sh RC PATTERN... -- COMMAND...
# Runs COMMAND (a tessera-conformance run), requires its exit status to be RC
# and every PATTERN (grep -E) to occur in its output. Used to prove that a
# deliberately broken plugin fails the case written to catch its bug, by name.
set -uo pipefail
want_rc=$1
shift
patterns=()
while [[ $# -gt 0 && $1 != "--" ]]; do
  patterns+=("$1")
  shift
done
shift
out=$("$@" 2>&1)
rc=$?
status=0
if [[ $rc -ne $want_rc ]]; then
  echo "expected exit status $want_rc, got $rc from: $*"
  status=1
fi
for p in "${patterns[@]}"; do
  if ! grep -Eq -- "$p" <<<"$out"; then
    echo "expected output matching '$p'"
    status=1
  fi
done
if [[ $status -ne 0 ]]; then
  echo "---- output ----"
  echo "$out"
fi
exit $status
