#!/usr/bin/env bash
# Quick start 2: install what is missing, build with warnings as errors, run every test; then the whole suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer (debug checks on), and a short bounded run of every
# fuzz target (INFERSIM_FUZZ_SECONDS each, default 15; 0 skips it). About 15 minutes on 2 cores from a clean
# checkout (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"
cmake --preset dev >/dev/null
cmake --build --preset dev -j"$jobs"
ctest --preset dev -j"$jobs"
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
# Sanitizers: the same tests in the asan preset (clang, Debug, so INFERSIM_DEBUG_CHECK invariants are on too),
# which also builds the fuzz targets.
cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs"
ctest --preset asan -j"$jobs"
# Fuzzing: every target from its seed corpus, bounded; any crash, hang or leak fails the run.
fuzz_seconds="${INFERSIM_FUZZ_SECONDS:-15}"
if [ "$fuzz_seconds" -gt 0 ]; then
  INFERSIM_FUZZ_PRESET=asan bash scripts/fuzz.sh "$fuzz_seconds"
fi
