"""infersim.run / simulate / requests: the same report and rows as `infersim run`, in-process."""

import io
import json
import os
import threading
import _thread

import pandas as pd
import pytest

import infersim
from conftest import SCENARIO, SHORT, cli, cli_json


def test_run_is_the_cli_json_report():
    sets = [f"--set={k}={v}" for k, v in SHORT.items()]
    expected = cli_json("run", SCENARIO, *sets, "--format", "json")
    assert infersim.run(SCENARIO, set=SHORT) == expected


def test_run_takes_a_dict_and_overrides():
    with open(SCENARIO, encoding="utf-8") as f:
        scenario = json.load(f)
    from_dict = infersim.run(scenario, set={**SHORT, "workload.arrival.rate_per_s": 4})
    from_path = infersim.run(SCENARIO, set={**SHORT, "workload.arrival.rate_per_s": 4})
    assert from_dict == from_path
    assert from_dict["schema_version"] == 1
    assert from_dict["scenario"]["workload"]["arrival"]["rate_per_s"] == 4
    # 300 Poisson arrivals at 4/s take about 75 s: the simulated duration is of that order, not of 2,000 at 8/s.
    assert 50 < from_dict["metrics"]["simulated_duration_s"] < 120


def test_override_values_keep_their_json_type():
    report = infersim.run(SCENARIO, set={**SHORT, "engine": "sglang", "slo.ttft_p99_s": 0.5})
    assert report["scenario"]["slo"]["ttft_p99_s"] == 0.5
    assert report["deployment"]["pools"][0]["engine"] == "sglang"


def test_requests_are_the_cli_requests_out_rows(tmp_path):
    out = tmp_path / "requests.csv"
    cli("run", SCENARIO, "--set", "workload.requests=300", "--requests-out", str(out))
    expected = pd.read_csv(out)
    frame = infersim.requests(SCENARIO, set=SHORT)
    assert list(frame.columns) == list(expected.columns)
    assert len(frame) == 300
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False, rtol=1e-8, atol=1e-9)
    # TPOT as the contract defines it, derived again from the row's own times.
    many = frame[frame.output_tokens > 1]
    derived = (many.e2e_s - many.ttft_s) / (many.output_tokens - 1)
    assert (abs(derived - many.tpot_s) < 1e-6).all()


def test_simulate_returns_the_timeline():
    result = infersim.simulate(SCENARIO, set=SHORT, requests=False, timeline=True)
    assert result.requests is None
    steps = [e for e in result.timeline["traceEvents"] if e.get("cat") == "step"]
    assert steps, "no step events in the timeline"
    assert result.timeline["otherData"]["model"] == "llama-3.1-8b"
    assert result.timeline["otherData"]["hardware"] == "h100-sxm"


def _interrupt_soon(seconds=0.3):
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


def test_ctrl_c_stops_a_long_run_inside_the_call():
    # Two million requests take seconds; Ctrl-C (interrupt_main raises SIGINT's KeyboardInterrupt) after 0.3 s
    # must stop the simulation. The timer thread can only fire while the call has released the GIL, and the
    # KeyboardInterrupt must come out of the native call itself, not after it returned.
    timer = _interrupt_soon()
    with pytest.raises(KeyboardInterrupt) as caught:
        infersim.run(SCENARIO, set={"workload.requests": 2_000_000, "workload.arrival.rate_per_s": 5000})
    timer.join()
    frames = [entry.name for entry in caught.traceback]
    assert frames[-1] == "_simulate", frames
    # The module still works after an interruption.
    assert infersim.run(SCENARIO, set=SHORT)["metrics"]["requests_completed"] == 300


def test_ctrl_c_stops_a_sweep_on_several_threads():
    sweep = {"base": SCENARIO, "grid": {"workload.arrival.rate_per_s": [100, 200, 300, 400]},
             "zip": {"workload.requests": [400_000]}}
    timer = _interrupt_soon()
    with pytest.raises(KeyboardInterrupt):
        infersim.sweep(sweep, jobs=2)
    timer.join()


def test_calls_from_several_threads_agree():
    results = [None] * 3

    def work(i):
        results[i] = infersim.run(SCENARIO, set=SHORT)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1] == results[2]
