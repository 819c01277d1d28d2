"""The `hwbench_case` fixture feeds pytest-benchmark: autosave, then compare-fail, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import hwbench_cmd

pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed")

TEST_FILE = """
import pytest

@pytest.mark.benchmark(group="hwbench")
def test_mlp_tiny(hwbench_case):
    record = hwbench_case("mlp", target="torch@cpu", size="tiny", batch=1, rounds=20)
    assert record.parity["passed"]
"""


def pytest_run(directory: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_bench.py",
        f"--benchmark-storage={directory / 'store'}",
        *args,
    ]
    return subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=300)


def test_autosave_compare_and_compare_fail(tmp_path: Path) -> None:
    (tmp_path / "test_bench.py").write_text(TEST_FILE)
    first = pytest_run(tmp_path, "--benchmark-autosave", "--benchmark-save-data")
    assert first.returncode == 0, first.stdout + first.stderr
    [saved] = (tmp_path / "store").glob("*/0001_*.json")
    [bench] = json.loads(saved.read_text())["benchmarks"]
    assert bench["group"] == "hwbench" and bench["options"]["timer"].startswith("DeviceClock[cpu]")
    assert bench["extra_info"]["hwbench_key"]["workload"] == "mlp"

    # Baselines far slower and far faster than any run (timings on a shared runner swing by
    # 100x under load, so the verdicts must not hang on the machine's mood).
    stats = ("min", "max", "mean", "median", "q1", "q3", "iqr", "stddev")
    data = json.loads(saved.read_text())
    for field in stats:
        data["benchmarks"][0]["stats"][field] *= 1e4
    saved.write_text(json.dumps(data))
    again = pytest_run(tmp_path, "--benchmark-compare", "--benchmark-compare-fail=median:5%")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Comparing against benchmarks from" in again.stdout + again.stderr

    for field in stats:
        data["benchmarks"][0]["stats"][field] /= 1e8
    saved.write_text(json.dumps(data))
    slower = pytest_run(tmp_path, "--benchmark-compare", "--benchmark-compare-fail=median:5%")
    assert slower.returncode != 0 and "Performance has regressed" in slower.stdout + slower.stderr

    gate = subprocess.run(
        hwbench_cmd("gate", "--baseline", str(saved), "--candidate", str(saved)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gate.returncode == 0, gate.stdout + gate.stderr  # hwbench reads pytest-benchmark JSON


AB_TEST_FILE = """
def test_same_target(hwbench_ab):
    outcome = hwbench_ab("mlp", a="torch@cpu", b="torch@cpu", samples=3, threshold=0.99,
                         budget_s=60)
    assert outcome.verdict in ("PASS", "INCONCLUSIVE") and "blocks, look" in outcome.sampling

def test_bad_arm(hwbench_ab):
    hwbench_ab("mlp", a="nosuch@cpu", b="torch@cpu")
"""


@pytest.mark.slow
def test_ab_fixture_runs_the_sequential_design(tmp_path: Path) -> None:
    (tmp_path / "test_bench.py").write_text(AB_TEST_FILE)
    done = pytest_run(tmp_path)
    # The same target in both arms and a 2x threshold: never FAIL, whatever this runner's load.
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "hwbench A/B mlp/tiny: unknown engine 'nosuch'" in done.stdout
