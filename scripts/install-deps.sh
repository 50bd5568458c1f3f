#!/usr/bin/env bash
# Installs the Debian packages Tessera builds and tests with, only those that
# are missing. Runs as root (as on the CI machines) or through sudo.
set -euo pipefail
# Vulkan: headers and glslc to build; the loader, Mesa's lavapipe (a real
# Vulkan driver on the CPU) and the Khronos validation layers to test.
# HIP: hipcc and the ROCm 5 runtime headers to build the HIP backend (it runs
# only where an AMD GPU is). CUDA's toolkit is preinstalled, not a package.
packages=(cmake ninja-build g++ pkg-config ccache clang-format
          libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libdnnl-dev
          libvulkan-dev glslc libvulkan1 mesa-vulkan-drivers vulkan-validationlayers
          hipcc libamdhip64-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
