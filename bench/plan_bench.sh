#!/usr/bin/env bash
# Planner speed (issue 16): bench/plans/plan-1008.json, 1,008 candidate replica configurations of
# Llama-3.1-70B at 30 requests/s, with --jobs 2 (and --jobs 1 to check the outputs are the same bytes).
# Prints wall and CPU time, peak RSS, the pruning rate (candidates skipped without a simulation) and the
# CPU time per simulated candidate and per simulation.
#
#   bash bench/plan_bench.sh [BUILD_DIR]     (default: build/release if built, else build/dev)
#
# Run it on an idle machine (check `uptime`): wall time on a loaded machine says little.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-}
if [ -z "$dir" ]; then dir=build/release; [ -x "$dir/src/infersim" ] || dir=build/dev; fi
bin=$dir/src/infersim
[ -x "$bin" ] || { echo "no $bin: build first (cmake --preset release && cmake --build --preset release -j2)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "binary: $bin; load before: $(uptime)"
printf "%-5s %10s %10s %12s\n" jobs wall_s cpu_s peak_rss_mb
for jobs in 2 1; do
  /usr/bin/time -v "$bin" plan bench/plans/plan-1008.json --jobs "$jobs" --format json --out "$work/out$jobs.json" 2>"$work/time.txt" || true
  w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$work/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$work/time.txt")
  printf "%-5s %10.2f %10s %12s\n" "$jobs" "$w" "$cpu" "$rss"
  [ "$jobs" = 2 ] && cpu2=$cpu
done
cmp -s "$work/out1.json" "$work/out2.json" && same=identical || same=DIFFERENT
python3 - "$work/out2.json" "$cpu2" "$same" <<'PY'
import collections, json, sys
j = json.load(open(sys.argv[1])); cpu = float(sys.argv[2])
skipped = j["skipped"]
pruned = sum(1 for s in skipped if s["simulations"] == 0)
simulated = j["candidates_searched"] - pruned
print(f"candidates {j['candidates_searched']}: {j['candidates_feasible']} meet the SLO, {len(skipped)} skipped "
      f"({dict(collections.Counter(s['kind'] for s in skipped))})")
print(f"pruned without simulation: {pruned} ({100 * pruned / j['candidates_searched']:.1f}%)")
print(f"simulations: {j['simulations']}; CPU per simulated candidate {1e3 * cpu / max(1, simulated):.1f} ms, "
      f"per simulation {1e3 * cpu / max(1, j['simulations']):.2f} ms")
best = j["candidates"][0] if j["candidates"] else None
if best:
    print(f"winner: {best['label']} x {best['replicas']} = {best['chips']} chips, ${best['usd_per_hour']:.2f}/hour")
print(f"--jobs 1 and --jobs 2 outputs: {sys.argv[3]}")
PY
echo "load after: $(uptime)"
