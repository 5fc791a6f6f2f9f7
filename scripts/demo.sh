#!/usr/bin/env bash
# Quick start 1: install what is missing, build the release binary and the Python module, install the module
# for Debian's /usr/bin/python3, run a real what-if scenario, then draw a small sweep's throughput per GPU
# against tokens/s per user (build/release/per-gpu-vs-per-user.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target infersim infersim_python >/dev/null
# `import infersim` for /usr/bin/python3: the package goes to /usr/local/lib/python3.X/dist-packages.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO cmake --install build/release --component python >/dev/null
build/release/src/infersim run configs/scenarios/llama-3.1-70b-8xh100-fp8.json
# Debian's interpreter explicitly: another python3 (pyenv's, without matplotlib) may come first on PATH.
/usr/bin/python3 -m infersim plot per_gpu_vs_per_user configs/sweeps/chat-8b-load-small.json \
  --out build/release/per-gpu-vs-per-user.png
