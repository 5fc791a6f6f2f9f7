"""Bad input raises infersim's exceptions with the CLI's message; nothing crashes the interpreter."""

import json
import os

import pytest

import infersim
from conftest import BAD_INPUTS, SCENARIO, SHORT, cli_errors


@pytest.mark.parametrize("name, error, fragment", [
    ("scenario_misspelled_key.json", infersim.ConfigError, 'did you mean "tensor_parallel"'),
    ("scenario_does_not_fit_one_chip.json", infersim.InfeasibleError, "does not fit on h100-sxm"),
])
def test_errors_carry_the_cli_message(name, error, fragment):
    path = os.path.join(BAD_INPUTS, name)
    with pytest.raises(error) as caught:
        infersim.run(path)
    assert str(caught.value) == cli_errors("run", path)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, infersim.Error)


def test_config_error_lists_its_diagnostics():
    with pytest.raises(infersim.ConfigError) as caught:
        infersim.run(os.path.join(BAD_INPUTS, "scenario_misspelled_key.json"))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic["path"] == "/deployment/tensor_paralel"
    assert diagnostic["file"].endswith("scenario_misspelled_key.json")
    assert isinstance(caught.value, ValueError)


def test_config_error_in_a_dict_names_the_dict():
    with open(os.path.join(BAD_INPUTS, "scenario_misspelled_key.json"), encoding="utf-8") as f:
        scenario = json.load(f)
    with pytest.raises(infersim.ConfigError, match=r"<dict>: /deployment/tensor_paralel"):
        infersim.run(scenario)


def test_a_bad_override_names_it():
    with pytest.raises(infersim.ConfigError) as caught:
        infersim.run(SCENARIO, set={"workload.arival.rate_per_s": 3})
    assert str(caught.value) == cli_errors("run", SCENARIO, "--set", "workload.arival.rate_per_s=3")


def test_usage_errors():
    with pytest.raises(infersim.UsageError, match="valid: hardware, models, engines"):
        infersim.catalog("gpus")
    with pytest.raises(infersim.UsageError, match="weight_dtype: unknown data type"):
        infersim.roofline("llama-2-7b", "a100-sxm-80gb", weight_dtype="fp7")
    with pytest.raises(infersim.UsageError, match="phase"):
        infersim.roofline("llama-2-7b", "a100-sxm-80gb", phase="training")
    with pytest.raises(infersim.UsageError, match="jobs"):
        infersim.sweep({"base": SCENARIO, "grid": {}}, jobs=0)


def test_wrong_python_types():
    with pytest.raises(TypeError):
        infersim.run(42)
    with pytest.raises(TypeError):
        infersim.run(SCENARIO, set=["workload.requests=3"])
    with pytest.raises(ValueError):
        infersim.run(SCENARIO, set={"workload.arrival.rate_per_s": float("nan")})


def test_missing_file_and_bad_sweep():
    with pytest.raises(infersim.Error):
        infersim.run("/nonexistent/scenario.json")
    with pytest.raises(infersim.ConfigError):
        infersim.sweep({"base": SCENARIO, "grid": {"deployment.tensor_parallel": 2}})


def test_failed_points_stay_rows_with_a_warning():
    sweep = {"base": SCENARIO, "grid": {"deployment.tensor_parallel": [1, 3]}, "zip": {"workload.requests": [200]}}
    with pytest.warns(infersim.InfersimWarning, match="1 of 2 points failed"):
        points = infersim.sweep(sweep, jobs=1)
    assert points["error"].isna().tolist() == [True, False]


def test_the_interpreter_survives_and_runs_again():
    for _ in range(3):
        with pytest.raises(infersim.Error):
            infersim.run(os.path.join(BAD_INPUTS, "scenario_misspelled_key.json"))
    assert infersim.run(SCENARIO, set=SHORT)["metrics"]["requests_completed"] == 300
