"""Faults in a case's worker: killed by a signal, hung, out of memory, raising at each stage
of a case. Each fails its own case with a reason; the run goes on, keeps every other case and
exits 1. One run shows them all: each fault sits between cases that must be in the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwbench.execution.process import Timeout, WorkerDied, WorkerProcess
from hwbench.results import store
from tests.conftest import hwbench_cmd, plugin_environment

QUICK = ["--workload", "mlp", "--scenario", "latency", "--time-budget", "0.2", "--machine", "box"]
TIMEOUT_S = "10"  # the hung case's; every other request takes well under it
BEFORE, AFTER = "torch@cpu", "torch@cpu:dtype=bf16"
# (target, the fault as the matrix names it, what the failed case's reason says)
FAULTS = [
    ("at=prepare,how=sigkill", "worker killed by SIGKILL in prepare", "killed by signal 9"),
    ("at=prepare,how=sigsegv", "worker killed by SIGSEGV in prepare", "killed by signal 11"),
    ("at=prepare,how=sigterm", "worker killed by SIGTERM in prepare", "killed by signal 15"),
    ("at=timed,how=sigterm", "worker killed by SIGTERM mid timed loop", "killed by signal 15"),
    ("at=timed,how=hang", "worker hangs mid timed loop", f"timed out after {TIMEOUT_S} s"),
    ("at=prepare,how=oom", "worker out of memory (allocation over RLIMIT_AS)", "can't allocate"),
    ("at=prepare,how=raise", "exception in prepare", "RuntimeError: fault injected in prepare"),
    ("at=first-run,how=raise", "exception in the first run", "fault injected in first-run"),
    ("at=timed,how=raise", "exception in the timed loop", "fault injected in timed"),
    ("at=parity,how=raise", "exception in parity", "fault injected in parity"),
]


def run(out: Path, targets: list[str], *args: str) -> tuple[subprocess.CompletedProcess, list]:
    """`hwbench run` of `targets` in that order; the process and the result file's cases."""
    flags = [arg for target in targets for arg in ("--target", target)]
    proc = subprocess.run(
        hwbench_cmd("run", *QUICK, *flags, "--out", str(out), *args),
        capture_output=True,
        text=True,
        timeout=300,
        env=plugin_environment(),
    )
    [path] = (out / "box").glob("*.json")
    return proc, store.load(path)["cases"]


def written(key: dict) -> tuple[str, dict, str]:
    return key["engine"], key["options"], key["dtype"]


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    targets = [BEFORE, *(f"test-fault@cpu:{options}" for options, _, _ in FAULTS), AFTER]
    out = tmp_path_factory.mktemp("worker-faults")
    return run(out, targets, "--passes", "1", "--timeout", TIMEOUT_S)


@pytest.mark.parametrize(
    ("index", "fault", "reason"),
    [(i, fault, reason) for i, (_, fault, reason) in enumerate(FAULTS, start=1)],
    ids=[options for options, _, _ in FAULTS],
)
def test_a_worker_fault_fails_its_case_and_the_run_goes_on(
    faulty_run, fault_row, index, fault, reason
):
    before = f"{index} finished case{'s' * (index > 1)} before it"
    kept = f"{before}; the case failed with a reason, the next ran"
    fault_row(fault, kept, 1)
    proc, cases = faulty_run
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(cases) == len(FAULTS) + 2  # every case in the file, in the suite's order
    assert written(cases[0].key) == ("torch", {}, "fp32") and cases[0].status == "ok"
    assert written(cases[-1].key) == ("torch", {}, "bf16") and cases[-1].status == "ok"
    assert all(c.status == "failed" for c in cases[1:-1])
    case = cases[index]
    assert case.key["options"] == dict(o.split("=") for o in FAULTS[index - 1][0].split(","))
    assert reason in case.reason and "\n" not in case.reason


def test_a_worker_killed_between_interleaved_passes_keeps_the_others_passes(tmp_path, fault_row):
    fault_row(
        "worker killed by SIGKILL between interleaved passes",
        "both other cases of the group, each with its 2 passes; the case failed",
        1,
    )
    proc, cases = run(tmp_path, [BEFORE, "test-crash-later@cpu", AFTER], "--passes", "2")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    before, crashed, after = cases
    assert crashed.status == "failed" and "killed by signal 9" in crashed.reason
    for case in (before, after):
        assert case.status == "ok" and len(case.sampling.pass_starts) == 2


def test_an_ab_worker_timeout_is_one_line(tmp_path, fault_row):
    fault_row("A/B arm's worker times out (ab --timeout 0.001)", "nothing measured yet", 2)
    proc = subprocess.run(
        hwbench_cmd(
            "ab", "--a", "torch@cpu", "--b", "torch@cpu", "--timeout", "0.001",
            "--out", str(tmp_path), "--machine", "box",
        ),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == "hwbench: error: arm a: worker timed out after 0.001 s"
    assert not (tmp_path / "box").exists() or not list((tmp_path / "box").iterdir())


def test_a_timed_out_worker_closed_again_stays_closed(tmp_path, fault_row):
    fault_row(
        "a timed-out worker is closed a second time and sent a request",
        "the timeout said once; a later request says the worker died",
        None,
    )
    worker = WorkerProcess(tmp_path / "stderr.txt", os.environ, python=sys.executable)
    with pytest.raises(Timeout):
        worker.request({"op": "slice"}, timeout_s=0.001)  # closes (kills) it
    worker.close(grace_s=10.0)  # as `hwbench ab` does on its way out
    with pytest.raises(WorkerDied, match="killed by signal 9"):
        worker.request({"op": "slice"}, timeout_s=5.0)
