#!/usr/bin/python3
"""What the Python module adds to the simulation it wraps, and how a large sweep comes back.

    /usr/bin/python3 bench/python_bench.py [BUILD]     (BUILD: build/release by default; needs its
                                                        infersim, bench/run_bench and python/ folders)

1. What infersim.run() adds to the library work it wraps: each call's wall time less the time the library
   spent inside it (measured by the binding with a steady clock around the whole C++ side: load with one
   override, simulate, report, dump JSON), median over the calls; so the machine's other load, which moves
   both together, mostly cancels. Beside it, the same chain timed in C++ alone (bench/run_bench, median of
   its repetitions) and the CLI (`infersim run --format json`, a process per call). The chat scenario at
   300 requests and at 1 request.
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

import warnings  # noqa: E402

import pandas as pd  # noqa: E402

import infersim  # noqa: E402

warnings.simplefilter("ignore", infersim.InfersimWarning)  # the chat scenario's undated price, every call

SCENARIO = os.path.join(ROOT, "configs", "scenarios", "chat-llama-3.1-8b-h100.json")
REQUESTS = 300


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cxx_time(requests):
    bench = subprocess.run([os.path.join(BUILD, "bench", "run_bench"), "--benchmark_format=json",
                            "--benchmark_repetitions=15", "--benchmark_min_time=0.2"],
                           env=dict(os.environ, INFERSIM_BENCH_SCENARIO=SCENARIO, INFERSIM_BENCH_REQUESTS=str(requests)),
                           capture_output=True, text=True, check=True)
    times = [b["real_time"] for b in json.loads(bench.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
    return statistics.median(times) / 1e3  # ms -> s


def added_time(sets, repeat):
    """Median over calls of (infersim.run's wall time - the library's time inside that call), and the median
    wall time."""
    native_run = infersim._native.run
    inside = []

    def spy(*args):
        result = native_run(*args)
        inside.append(result[3])
        return result

    infersim._native.run = spy
    try:
        walls, added = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            infersim.run(SCENARIO, set=sets)
            walls.append(time.perf_counter() - start)
            added.append(walls[-1] - inside[-1])
    finally:
        infersim._native.run = native_run
    return statistics.median(added), statistics.median(walls)


def main():
    binary = os.path.join(BUILD, "src", "infersim")
    for requests in (REQUESTS, 1):
        sets = {"workload.requests": requests}
        infersim.run(SCENARIO, set=sets)  # warm the catalog files into the page cache
        added, py = added_time(sets, 300 if requests == 1 else 60)
        cxx = cxx_time(requests)
        cli = median_time(lambda: subprocess.run([binary, "run", SCENARIO, "--set", f"workload.requests={requests}",
                                                  "--format", "json"], capture_output=True, check=True), 15)
        print(f"run, chat scenario at {requests} requests (medians)")
        print(f"  infersim.run() adds to the library's work: {added * 1e3:8.3f} ms per call")
        print(f"  infersim.run() wall time:                  {py * 1e3:8.3f} ms")
        print(f"  the same in C++ alone (bench/run_bench):    {cxx * 1e3:8.3f} ms")
        print(f"  infersim run --format json:                {cli * 1e3:8.3f} ms   (a process per call)")

    sweep = {"base": SCENARIO,
             "grid": {"workload.arrival.rate_per_s": [0.5 + 0.5 * i for i in range(50)],
                      "scheduler.max_batch_size": [8 * (i + 1) for i in range(20)]},
             "zip": {"workload.requests": [50]}}
    path = os.path.join(BUILD, "python_bench_sweep.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(sweep, f)
    py_sweep = cli_sweep = float("inf")
    for _ in range(2):  # alternated, best of two: the machine's other load moves each run
        start = time.perf_counter()
        points = infersim.sweep(path, jobs=2)
        py_sweep = min(py_sweep, time.perf_counter() - start)
        start = time.perf_counter()
        result = subprocess.run([binary, "sweep", path, "--jobs", "2"], capture_output=True, text=True, check=True)
        cli_sweep = min(cli_sweep, time.perf_counter() - start)
    start = time.perf_counter()
    pd.read_csv(io.StringIO(result.stdout))
    convert = time.perf_counter() - start
    os.remove(path)
    print(f"sweep of {len(points)} points, 2 jobs")
    print(f"  infersim.sweep() -> DataFrame:             {py_sweep:8.3f} s")
    print(f"  infersim sweep (CSV to a pipe):            {cli_sweep:8.3f} s")
    print(f"  the CSV -> DataFrame step (one read_csv):  {convert * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
