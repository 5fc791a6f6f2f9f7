#!/usr/bin/env bash
# Fuzz the config loaders and the trace reader (docs/reliability.md): builds the `fuzz` preset (clang,
# libFuzzer, ASan + UBSan) and runs each target for SECONDS from its seed corpus in tests/fuzz/corpus.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      default: 20 seconds each, every target
# New inputs go to build/fuzz/corpus/TARGET (the committed seeds are not touched); a crash, a timeout or a
# leak stops the run, leaves the input in build/fuzz/artifacts/TARGET/ and fails the script. Make every such
# input a regression test (tests/fuzz/corpus/TARGET/regression-*, and tests/unit/past_bugs_test.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(hardware model scenario trace)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)"
failed=()
for t in "${targets[@]}"; do
  work="build/fuzz/corpus/$t" artifacts="build/fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  echo "fuzzing $t for $seconds s" >&2
  if ! build/fuzz/tests/fuzz/"${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -dict=tests/fuzz/infersim.dict -artifact_prefix="$artifacts/" "$work" "tests/fuzz/corpus/$t" \
       >"build/fuzz/$t.log" 2>&1; then
    failed+=("$t")
    tail -n 40 "build/fuzz/$t.log" >&2
  fi
  grep -E "^stat::number_of_executed_units|^Done" "build/fuzz/$t.log" >&2 || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in build/fuzz/artifacts/)" >&2
  exit 1
fi
