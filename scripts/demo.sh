#!/usr/bin/env bash
# Quick start 1: install what is missing, build the release binary, run a real what-if scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target infersim >/dev/null
build/release/src/infersim run configs/scenarios/llama-3.1-70b-8xh100-fp8.json
