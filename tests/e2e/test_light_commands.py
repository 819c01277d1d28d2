"""Commands that only read result files (compare, gate, export, report) and every `--help` run
where torch cannot be imported, and `hwbench --help` starts fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hwbench.commands import COMMANDS
from hwbench.measure.stats import latency_ms
from hwbench.results import store
from tests.conftest import hwbench_cmd
from tests.records import record

# A torch package first on the path: importing it notes who tried, then fails.
BLOCKER = """import os, traceback
with open(os.environ["HWBENCH_TEST_TORCH_TRIED"], "a") as tried:
    tried.write("".join(traceback.format_stack()))
raise ImportError("torch is blocked by tests/e2e/test_light_commands.py")
"""
# `hwbench --help` in-process: the imports and the parser, not the interpreter's start.
TIMED_HELP = """import contextlib, io, time
start = time.perf_counter()
from hwbench.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(["--help"])
print(time.perf_counter() - start)
"""
HELP_LIMIT_S = 0.5


@pytest.fixture
def no_torch(tmp_path: Path) -> dict[str, str]:
    """An environment in which `import torch` fails, and the file that says whether it was tried."""
    blocked = tmp_path / "blocked"
    (blocked / "torch").mkdir(parents=True)
    (blocked / "torch" / "__init__.py").write_text(BLOCKER)
    path = os.pathsep.join(filter(None, [str(blocked), os.environ.get("PYTHONPATH")]))
    tried = tmp_path / "torch-tried.txt"
    return {**os.environ, "PYTHONPATH": path, "HWBENCH_TEST_TORCH_TRIED": str(tried)}


def hwbench(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, env=env, timeout=120)


def assert_torch_untouched(env: dict[str, str], done: subprocess.CompletedProcess) -> None:
    tried = Path(env["HWBENCH_TEST_TORCH_TRIED"])
    assert not tried.exists(), f"torch was imported from:\n{tried.read_text()[-3000:]}"
    assert done.returncode == 0, done.stderr


def case(median_ms: float, seed: int, **key: object) -> dict:
    """An ok latency case in the result file's form, with samples, metrics and a roofline."""
    samples = list(median_ms * 1e6 * np.random.default_rng(seed).lognormal(0, 0.02, 60))
    latency = latency_ms(samples)
    roofline = {"flops_per_s": 1e9, "bytes_per_s": 1e9, "bound": None, "bound_from": None}
    metrics = {"latency_ms": latency, "throughput": 1e3 / latency["p50"]}
    timed = {"samples_ns": samples, "metrics": metrics, "roofline": roofline}
    return record(key, **timed, parity={"rel_l2": 1e-7}, sampling={"stop_reason": "x"}).to_json()


def result_file(path: Path, *cases: dict) -> Path:
    document = store.new_results("light", "m", {"host": "h", "packages": {}}, {})
    document["devices"] = {"cpu": {"available": True, "reason": ""}}
    document["cases"] = list(cases)
    store.save(document, path)
    return path


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    """Two runs of the same two targets."""
    runs = {"base": 0, "new": 1}  # name: seed
    cases = {name: (case(1.0, seed), case(1.5, seed, engine="ort")) for name, seed in runs.items()}
    return tuple(result_file(tmp_path / f"{name}.json", *cases[name]) for name in runs)


def test_the_blocker_blocks(no_torch: dict[str, str]) -> None:
    done = hwbench(no_torch, "env")  # the fingerprint reads torch's version
    assert done.returncode != 0 and "torch is blocked" in done.stderr
    assert Path(no_torch["HWBENCH_TEST_TORCH_TRIED"]).exists()


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_needs_no_torch(no_torch: dict[str, str], command: str) -> None:
    done = hwbench(no_torch, *filter(None, [command, "--help"]))
    assert_torch_untouched(no_torch, done)
    assert "usage: hwbench" in done.stdout


def test_compare_gate_export_and_report_need_no_torch(
    no_torch: dict[str, str], two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    base, new = map(str, two_runs)
    html, exported = tmp_path / "report.html", tmp_path / "exported.json"
    for args in (
        ("compare", base),
        ("compare", base, new, "--by", "run"),
        ("gate", "--baseline", base, "--candidate", new),
        ("export", base, "-o", str(exported)),
        ("report", base, new, "-o", str(html)),
    ):
        done = hwbench(no_torch, *args)
        assert_torch_untouched(no_torch, done)
    assert exported.exists() and html.exists()


def test_help_takes_under_half_a_second() -> None:
    """The minimum of three runs, so a busy machine's slow run does not count."""
    times = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", TIMED_HELP], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        times.append(float(done.stdout))
    assert min(times) < HELP_LIMIT_S, f"hwbench --help took {min(times):.2f} s at best"
