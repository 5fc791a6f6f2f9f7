#!/usr/bin/env bash
# Sweep throughput and memory: N points of 1,000 requests each (Llama-3.1-8B on one H100, Poisson arrivals),
# run with --jobs 1 and --jobs 2; wall time and peak RSS from /usr/bin/time -v.
#
#   bash bench/sweep_bench.sh [POINTS...]     (default: 1000 10000; needs the release build)
#
# The points are a grid of 10 arrival rates x POINTS/10 seeds. Run it on an idle machine (check `uptime`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/src/infersim
[ -x "$bin" ] || { echo "build the release preset first: cmake --preset release && cmake --build --preset release -j" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/base.json" <<'JSON'
{"name": "sweep-bench", "model": "llama-3.1-8b", "hardware": "h100-sxm",
 "scheduler": {"policy": "continuous", "max_batch_size": 256, "max_batched_tokens": 8192},
 "workload": {"requests": 1000, "seed": 1, "arrival": {"process": "poisson", "rate_per_s": 5},
              "input_tokens": {"distribution": "uniform", "min": 128, "max": 1024},
              "output_tokens": {"distribution": "uniform", "min": 32, "max": 256}},
 "slo": {"ttft_p99_s": 1.0, "tpot_p99_s": 0.05}}
JSON
echo "load before: $(uptime)"
printf "%-8s %-5s %10s %10s %12s %10s\n" points jobs wall_s cpu_s points_per_s peak_rss_mb
for points in "${@:-1000 10000}"; do
  python3 - "$work/sweep.json" "$points" <<'PY'
import json, sys
path, points = sys.argv[1], int(sys.argv[2])
json.dump({"base": "base.json", "grid": {"workload.seed": list(range(1, points // 10 + 1)),
           "workload.arrival.rate_per_s": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}}, open(path, "w"))
PY
  declare -A wall=()
  for jobs in 1 2; do
    rm -f "$work/out.csv"
    /usr/bin/time -v "$bin" sweep "$work/sweep.json" --jobs "$jobs" --out "$work/out.csv" 2>"$work/time.txt"
    w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$work/time.txt")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$work/time.txt")
    wall[$jobs]=$w
    printf "%-8s %-5s %10.2f %10s %12.1f %10s\n" "$points" "$jobs" "$w" "$cpu" "$(echo "$points / $w" | bc -l)" "$rss"
    cp "$work/out.csv" "$work/out$jobs.csv"
  done
  cmp -s "$work/out1.csv" "$work/out2.csv" && same=identical || same=DIFFERENT
  printf "%-8s scaling 1 -> 2 jobs: %.2fx; outputs %s\n" "$points" "$(echo "${wall[1]} / ${wall[2]}" | bc -l)" "$same"
done
echo "load after: $(uptime)"
