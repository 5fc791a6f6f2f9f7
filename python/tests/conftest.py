"""Shared fixtures. CTest runs these with Debian's /usr/bin/python3, PYTHONPATH at the build's python/ folder,
INFERSIM_SOURCE_DIR at the checkout and INFERSIM_BINARY at the infersim executable of the same build."""

import json
import os
import subprocess

import pytest

SOURCE_DIR = os.environ.get("INFERSIM_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY = os.environ.get("INFERSIM_BINARY", os.path.join(SOURCE_DIR, "build", "dev", "src", "infersim"))
SCENARIO = os.path.join(SOURCE_DIR, "configs", "scenarios", "chat-llama-3.1-8b-h100.json")
SMALL_SWEEP = os.path.join(SOURCE_DIR, "configs", "sweeps", "chat-8b-load-small.json")
BAD_INPUTS = os.path.join(SOURCE_DIR, "tests", "bad_inputs")
# A short run of the chat scenario (300 requests).
SHORT = {"workload.requests": 300}


CONFIGS = os.path.join(SOURCE_DIR, "configs")


def cli(*args, check=True):
    """The infersim executable of the same build: what the Python module must agree with."""
    result = subprocess.run([BINARY, *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"infersim {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def cli_json(*args):
    return json.loads(cli(*args).stdout)


def cli_errors(*args):
    """The CLI's error lines without their "error: " prefix."""
    result = cli(*args, check=False)
    assert result.returncode == 2, result.stderr
    return "\n".join(line[len("error: "):] for line in result.stderr.splitlines() if line.startswith("error: "))


@pytest.fixture(scope="module")
def small_points():
    import infersim

    return infersim.sweep(SMALL_SWEEP, jobs=2)
