#!/usr/bin/env bash
# Install what infersim needs to build and test, from Debian's packages; installs only what is missing.
# Debian 12 (bookworm) or later, run as root (or with sudo available).
set -euo pipefail

# clang + libclang-rt-dev: the `fuzz` preset (libFuzzer and the sanitizer runtimes ship in libclang-rt-14-dev).
# The Python module (python/) is built for Debian's /usr/bin/python3 with these packages: pybind11 (headers
# and CMake config), numpy, pandas, matplotlib, pytest; the tests use them.
packages=(build-essential cmake ccache python3 clang libclang-rt-dev
          libeigen3-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libgtest-dev libbenchmark-dev
          python3-dev pybind11-dev python3-pybind11 python3-numpy python3-pandas python3-matplotlib python3-pytest)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
