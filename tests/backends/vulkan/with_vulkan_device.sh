#!/usr/bin/env bash
# with_vulkan_device.sh TESSERA_INFO COMMAND...: runs COMMAND when Tessera
# lists a Vulkan device; otherwise prints why not and exits 77, which ctest
# reports as skipped (SKIP_RETURN_CODE), never as passed. With
# TESSERA_REQUIRE_VULKAN=1 (scripts/test.sh sets it: CI installs lavapipe)
# a missing device fails the test instead.
set -euo pipefail
info=$1
shift
listing=$("$info")
if ! grep -q '^  vulkan:0 ' <<<"$listing"; then
  echo "skipped: no Vulkan device. tessera-info says:"
  echo "$listing" | grep -E '^note: vulkan' || echo "  (no note from the Vulkan backend: built without it?)"
  echo "On Debian: apt-get install mesa-vulkan-drivers (lavapipe, a Vulkan driver on the CPU)."
  if [ "${TESSERA_REQUIRE_VULKAN:-0}" = 1 ]; then
    echo "FAIL: TESSERA_REQUIRE_VULKAN=1 and no Vulkan device"
    exit 1
  fi
  exit 77
fi
exec "$@"
