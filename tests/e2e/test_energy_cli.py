"""Energy as a user sees it: `energy: not exposed` with the reason on a machine without a
counter; through a RAPL stand-in tree whose counter a thread advances at a set rate, a figure
in the record, the table's energy column, and `gate --metric energy`. No figure here is a
measurement: the stand-in's source names its tree."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from hwbench.results import store
from hwbench.results.schema import schema
from tests.conftest import hwbench_cmd
from tests.energy_stand_ins.rapl_tree import make_rapl_stand_in, set_counter

STAND_IN_W = 20.0  # what the stand-in's package counter advances by per second


def hwbench(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, env=env, timeout=300)


def run(out: Path, env: dict | None = None) -> tuple[subprocess.CompletedProcess, Path]:
    done = hwbench(
        "run", "--workload", "mlp", "--target", "torch@cpu", "--scenario", "latency",
        "--time-budget", "0.5", "--out", str(out), "--machine", "m", "--wide", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [path] = (out / "m").glob("*.json")
    return done, path


@pytest.fixture
def advancing_stand_in(tmp_path: Path) -> Iterator[Path]:
    """A RAPL stand-in tree whose package counter goes up STAND_IN_W joules a second."""
    tree = make_rapl_stand_in(tmp_path)
    stop = threading.Event()

    def advance() -> None:
        start = time.perf_counter()
        while not stop.wait(0.002):
            uj = round((time.perf_counter() - start) * STAND_IN_W * 1e6)
            set_counter(tree, "intel-rapl:0", uj)

    writer = threading.Thread(target=advance, daemon=True)
    writer.start()
    yield tree
    stop.set()
    writer.join()


@pytest.mark.slow
@pytest.mark.skipif(Path("/sys/class/powercap").is_dir(), reason="this machine has powercap")
def test_without_a_counter_every_case_says_not_exposed_and_why(tmp_path: Path) -> None:
    done, path = run(tmp_path)
    [case] = json.loads(path.read_text())["cases"]
    assert case["energy"]["status"] == "not exposed"
    assert "/sys/class/powercap" in case["energy"]["reason"]
    assert "energy not exposed on cpu: no /sys/class/powercap" in " ".join(done.stdout.split())
    assert "J per sample" not in done.stdout  # no energy column without a figure
    gate = hwbench("gate", "--metric", "energy", "--baseline", str(path), "--candidate", str(path))
    assert gate.returncode == 2 and "no candidate case has energy" in gate.stderr
    assert "Traceback" not in gate.stderr


@pytest.mark.slow
def test_a_stand_in_counter_flows_to_the_record_table_and_gate(
    advancing_stand_in: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HWBENCH_POWERCAP": str(advancing_stand_in)}
    done, path = run(tmp_path / "runs", env)
    [case] = json.loads(path.read_text())["cases"]
    energy = case["energy"]
    assert energy["status"] == "measured", energy
    assert "rapl-stand-in" in energy["source"] and energy["domains"] == ["package-0", "dram-0"]
    assert energy["segments"] == 3 and energy["idle_subtracted"] is False
    assert energy["mean_w"] == pytest.approx(STAND_IN_W, rel=0.5)
    assert energy["idle_w"] == pytest.approx(STAND_IN_W, rel=0.5)
    samples = energy["counts"]["sample"]
    assert samples >= case["metrics"]["steps"]  # the timed steps, and each pass's warm one
    assert energy["joules_per"]["sample"] == pytest.approx(energy["joules"] / samples)
    assert "J per sample or token" in done.stdout
    validator = jsonschema.Draft202012Validator(schema("results"))
    assert not list(validator.iter_errors(json.loads(path.read_text())))

    steady = with_energy(path, tmp_path / "steady.json", [1.0, 1.002, 0.998])
    real = gate_energy(steady, path)
    assert "--metric energy" in real.stdout and real.returncode in (0, 1)
    doubled = gate_energy(steady, with_energy(path, tmp_path / "2x.json", [2.0, 2.004, 1.996]))
    assert doubled.returncode == 1 and "FAIL" in doubled.stdout, doubled.stdout + doubled.stderr
    same = gate_energy(steady, steady)
    assert same.returncode == 0 and "PASS" in same.stdout, same.stdout + same.stderr


def gate_energy(baseline: Path, candidate: Path) -> subprocess.CompletedProcess:
    return hwbench(
        "gate", "--metric", "energy", "--baseline", str(baseline), "--candidate", str(candidate)
    )


def with_energy(source: Path, target: Path, figures: list[float]) -> Path:
    """A copy of a result whose case has these joules per sample, one per segment."""
    document = json.loads(source.read_text())  # the file's form, edited as data
    energy = document["cases"][0]["energy"]
    energy["segment_joules_per"]["sample"] = figures
    energy["joules_per"]["sample"] = sorted(figures)[1]
    store.save(document, target)
    return target
