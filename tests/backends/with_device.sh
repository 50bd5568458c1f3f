#!/usr/bin/env bash
# with_device.sh BACKEND TESSERA_INFO COMMAND...: runs COMMAND when Tessera
# lists a device of BACKEND (vulkan, opencl); otherwise prints why not and
# exits 77, which ctest reports as skipped (SKIP_RETURN_CODE), never as
# passed. With TESSERA_REQUIRE_<BACKEND>=1 (scripts/test.sh sets it for
# Vulkan and OpenCL: CI installs lavapipe and PoCL) a missing device fails
# the test instead.
set -euo pipefail
backend=$1
info=$2
shift 2
listing=$("$info")
if ! grep -q "^  $backend:0 " <<<"$listing"; then
  echo "skipped: no $backend device. tessera-info says:"
  echo "$listing" | grep -E "^note: $backend" || echo "  (no note from the $backend backend: built without it?)"
  case $backend in
    vulkan) echo "On Debian: apt-get install mesa-vulkan-drivers (lavapipe, a Vulkan driver on the CPU)." ;;
    opencl) echo "On Debian: apt-get install pocl-opencl-icd (PoCL, an OpenCL implementation on the CPU)." ;;
  esac
  require=TESSERA_REQUIRE_${backend^^}
  if [ "${!require:-0}" = 1 ]; then
    echo "FAIL: $require=1 and no $backend device"
    exit 1
  fi
  exit 77
fi
exec "$@"
