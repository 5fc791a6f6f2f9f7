#!/usr/bin/python3
"""What the Python module adds to the simulation it wraps, and how a large sweep comes back.

    /usr/bin/python3 bench/python_bench.py [BUILD]     (BUILD: build/release by default; needs its
                                                        infersim, bench/run_bench and python/ folders)

1. infersim.run() against the same call chain in C++ (bench/run_bench: load with one override, simulate,
   report, dump JSON) and against the CLI (`infersim run --format json`, a process per call), on the chat
   scenario at 300 requests: the median of each; the difference with C++ is the Python call's cost.
2. A 1,000-point sweep (Llama-3.1-8B on one H100, 50 rates x 20 batch limits, 50 requests a point) through
   infersim.sweep() against `infersim sweep` writing the same CSV, and the part of it spent turning the CSV
   into a DataFrame (one pandas.read_csv, no loop over rows in Python).
Run it on an idle machine (check `uptime`): the numbers are wall times.
"""

import io
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "release"))
sys.path.insert(0, os.path.join(BUILD, "python"))

import pandas as pd  # noqa: E402

import infersim  # noqa: E402

SCENARIO = os.path.join(ROOT, "configs", "scenarios", "chat-llama-3.1-8b-h100.json")
REQUESTS = 300


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    infersim.run(SCENARIO, set={"workload.requests": REQUESTS})  # warm the catalog files into the page cache
    py = median_time(lambda: infersim.run(SCENARIO, set={"workload.requests": REQUESTS}), 30)
    bench = subprocess.run([os.path.join(BUILD, "bench", "run_bench"), "--benchmark_format=json"],
                           env=dict(os.environ, INFERSIM_BENCH_SCENARIO=SCENARIO, INFERSIM_BENCH_REQUESTS=str(REQUESTS)),
                           capture_output=True, text=True, check=True)
    cxx = json.loads(bench.stdout)["benchmarks"][0]["real_time"] / 1e3  # ms -> s
    binary = os.path.join(BUILD, "src", "infersim")
    cli = median_time(lambda: subprocess.run([binary, "run", SCENARIO, "--set", f"workload.requests={REQUESTS}",
                                              "--format", "json"], capture_output=True, check=True), 15)
    print(f"run, chat scenario at {REQUESTS} requests (median wall time per call)")
    print(f"  C++ library (bench/run_bench):   {cxx * 1e3:8.3f} ms")
    print(f"  infersim.run():                  {py * 1e3:8.3f} ms   (+{(py - cxx) * 1e3:.3f} ms)")
    print(f"  infersim run --format json:      {cli * 1e3:8.3f} ms   (a process per call)")

    sweep = {"base": SCENARIO,
             "grid": {"workload.arrival.rate_per_s": [0.5 + 0.5 * i for i in range(50)],
                      "scheduler.max_batch_size": [8 * (i + 1) for i in range(20)]},
             "zip": {"workload.requests": [50]}}
    path = os.path.join(BUILD, "python_bench_sweep.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(sweep, f)
    start = time.perf_counter()
    points = infersim.sweep(path, jobs=2)
    py_sweep = time.perf_counter() - start
    start = time.perf_counter()
    result = subprocess.run([binary, "sweep", path, "--jobs", "2"], capture_output=True, text=True, check=True)
    cli_sweep = time.perf_counter() - start
    start = time.perf_counter()
    pd.read_csv(io.StringIO(result.stdout))
    convert = time.perf_counter() - start
    os.remove(path)
    print(f"sweep of {len(points)} points, 2 jobs")
    print(f"  infersim.sweep() -> DataFrame:   {py_sweep:8.3f} s")
    print(f"  infersim sweep (CSV to a pipe):  {cli_sweep:8.3f} s")
    print(f"  of which CSV -> DataFrame:       {convert * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
