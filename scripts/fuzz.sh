#!/usr/bin/env bash
# Fuzz the config loaders and the trace reader (docs/reliability.md): builds the fuzz targets of a preset
# (`fuzz`: optimised, for long runs; `asan`: Debug, built anyway by scripts/test.sh) and runs each target for
# SECONDS from its seed corpus in tests/fuzz/corpus.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      default: 20 seconds each, every target
#   INFERSIM_FUZZ_PRESET=asan bash scripts/fuzz.sh 20
# New inputs go to build/PRESET/corpus/TARGET (the committed seeds are not touched); a crash, a timeout or a
# leak stops the run, leaves the input in build/PRESET/artifacts/TARGET/ and fails the script. Make every such
# input a regression test (tests/fuzz/corpus/TARGET/regression-*, and tests/unit/past_bugs_test.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(hardware model engine scenario trace sweep baseline)
preset="${INFERSIM_FUZZ_PRESET:-fuzz}"
build="build/$preset"
cmake --preset "$preset" >/dev/null
cmake --build "$build" --target fuzzers -j"$(nproc)"
failed=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t" artifacts="$build/artifacts/$t" log="$build/fuzz-$t.log"
  mkdir -p "$work" "$artifacts"
  echo "fuzzing $t for $seconds s" >&2
  if ! "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -dict=tests/fuzz/infersim.dict -artifact_prefix="$artifacts/" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    failed+=("$t")
    tail -n 40 "$log" >&2
  fi
  grep -E "^stat::number_of_executed_units|^Done" "$log" >&2 || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
