"""``/usr/bin/python3 -m infersim plot KIND INPUT --out FILE.png|svg``: one picture from a file.

INPUT is, by KIND:
- latency_throughput, per_gpu_vs_per_user, pareto: a sweep file (run here, as `infersim sweep`) or a sweep's
  output (`infersim sweep --out points.csv|.jsonl`);
- cost_breakdown: a scenario file (run here), a run report (`infersim run --format json`), a sweep file or a
  sweep's output;
- timeline: a timeline (`infersim run --trace-out FILE`) or a scenario file (run here).
Exit codes as the infersim command's: 0 success, 2 bad input, 3 internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import infersim
from infersim import plot


def _read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _points(path: str, jobs):
    if path.endswith(".json"):
        return infersim.sweep(path, jobs=jobs)
    return plot.read_points(path)


def figure(kind: str, path: str, args) -> "plot.Figure":
    if kind in ("latency_throughput", "per_gpu_vs_per_user"):
        return getattr(plot, kind)(_points(path, args.jobs))
    if kind == "pareto":
        return plot.pareto(_points(path, args.jobs), args.x, args.y)
    if kind == "cost_breakdown":
        if not path.endswith(".json"):
            return plot.cost_breakdown(plot.read_points(path))
        doc = _read_json(path)
        if "schema_version" in doc and "metrics" in doc:
            return plot.cost_breakdown(doc)
        if "base" in doc:
            return plot.cost_breakdown(infersim.sweep(path, jobs=args.jobs))
        return plot.cost_breakdown(infersim.run(path))
    if kind == "timeline":
        doc = _read_json(path)
        if "traceEvents" in doc:
            return plot.timeline(doc)
        return plot.timeline(infersim.simulate(path, requests=False, timeline=True).timeline)
    raise infersim.UsageError(f"unknown plot {kind!r}; valid: {', '.join(plot.KINDS)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m infersim", description="infersim's pictures")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plot", help="draw one picture from a sweep, a run or a timeline")
    p.add_argument("kind", choices=plot.KINDS)
    p.add_argument("input", help="sweep file or its output, scenario, run report or timeline (see --help)")
    p.add_argument("--out", required=True, help="FILE.png or FILE.svg (also .pdf)")
    p.add_argument("--x", default="metrics.cost.usd_per_million_output_tokens_all_in",
                   help="pareto: the x metric (prefix max: to maximize)")
    p.add_argument("--y", default="metrics.ttft_s.p99", help="pareto: the y metric (prefix max: to maximize)")
    p.add_argument("--jobs", type=int, default=None, help="points simulated at once when INPUT is a sweep file")
    p.add_argument("--dpi", type=int, default=120)
    args = parser.parse_args(argv)
    if os.path.splitext(args.out)[1].lower() not in (".png", ".svg", ".pdf"):
        print("error: --out must end in .png, .svg or .pdf", file=sys.stderr)
        return 2
    try:
        fig = figure(args.kind, args.input, args)
        fig.savefig(args.out, dpi=args.dpi)
    except (infersim.ConfigError, infersim.InfeasibleError, infersim.UsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {args.input}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the exit code says it is ours
        print(f"internal error: {e!r} (please report this with the command and files that caused it)", file=sys.stderr)
        return 3
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
