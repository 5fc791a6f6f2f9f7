#!/usr/bin/env bash
# Quick start 1: install what is missing, build the release binary, run a real what-if.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target infersim >/dev/null
build/release/src/infersim roofline --model llama-3.1-70b --hardware h100-sxm --tensor-parallel 8 \
  --weight-dtype fp8 --activation-dtype fp8 --kv-cache-dtype fp8 --batch 64 --context 2048 --phase decode
