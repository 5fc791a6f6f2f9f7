#!/usr/bin/env bash
# Quick start 2: install what is missing, build with warnings as errors, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j"$(nproc)"
ctest --preset dev -j"$(nproc)"
# The published estimates: every scenario in configs/scenarios against configs/baselines/scenarios.json.
# A change that moves one fails here until the baseline is updated (`infersim check FILE --update`).
if ! report=$(build/dev/src/infersim check configs/baselines/scenarios.json); then
  printf '%s\n' "$report" | grep -E "^case|BREACH|^check" >&2
  exit 1
fi
printf '%s\n' "$report" | tail -1
# The interface contract (names, keys, exit codes), when the shared checks are beside the project.
shared="${INFERSIM_SHARED_DIR:-../shared}"
if [ -f "$shared/checks/contract-check.py" ]; then
  python3 "$shared/checks/contract-check.py" build/dev/src/infersim --only list,roofline,run,validate,sweep
else
  echo "contract check skipped: $shared/checks/contract-check.py not found (set INFERSIM_SHARED_DIR)" >&2
fi
