"""Ctrl-C (SIGINT) and SIGTERM to the hwbench process itself: while it starts, while a case is
timed in one go, and while an interleaved case waits between passes. Each ends in one line with
128 + the signal, every finished case in the file and no worker or temporary folder left.
(While saving: tests/faults/test_saving_faults.py.)"""

from __future__ import annotations

import builtins
import os
import signal
import subprocess
import time

import psutil
import pytest

from hwbench.__main__ import run as hwbench_script
from hwbench.results import store
from tests.conftest import default_sigint, hwbench_cmd

CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        hwbench_cmd(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=default_sigint,
    )


@pytest.mark.parametrize(
    ("passes", "stop"),
    [
        ("1", signal.SIGINT),
        ("1", signal.SIGTERM),
        ("3", signal.SIGINT),
        ("3", signal.SIGTERM),
    ],
)
def test_a_signal_mid_run_keeps_what_was_measured(tmp_path, plugin_env, passes, stop, fault_row):
    """The second case hangs in prepare. In one go (passes 1) the first case had finished and
    is kept; interleaved (passes 3) the first case waits between its passes, and is saved from
    the one it has, marked interrupted."""
    mark = tmp_path / "hanging"
    scratch = tmp_path / "tmp"  # the run's temporary folders, which must be gone after
    scratch.mkdir()
    env = {**plugin_env, "HWBENCH_TEST_HANG_MARK": str(mark), "TMPDIR": str(scratch)}
    proc = start(
        env, "run", "--workload", "mlp", "--scenario", "latency",
        "--target", "torch@cpu", "--target", "test-hang@cpu", "--passes", passes,
        "--time-budget", "0.3", "--out", str(tmp_path), "--machine", "box",
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not mark.exists():
        time.sleep(0.2)
    assert mark.exists(), "the hanging case should have started"
    workers = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, stop)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == CODES[stop], stderr
    assert "Traceback" not in stderr
    [path] = (tmp_path / "box").glob("*.json")
    cases = store.load(path)["cases"]
    assert [c.status for c in cases] == ["ok"]
    expected = {"1": ("converged", "time_budget"), "3": ("interrupted",)}[passes]
    assert cases[0].sampling.stop_reason in expected
    assert len(cases[0].sampling.pass_starts) == 1
    psutil.wait_procs(workers, timeout=10)
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    assert not list(scratch.iterdir()), "temporary folders left behind"
    when = "mid-case (in one go)" if passes == "1" else "between an interleaved case's passes"
    kept = "the finished case" if passes == "1" else "the case, from its first pass"
    fault_row(f"{NAMES[stop]} to hwbench {when}", f"{kept}; no worker, no temp folder", CODES[stop])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_starting_ends_in_one_line(tmp_path, stop, fault_row):
    """Half a second in, hwbench is importing (torch, in the command): one line, no traceback,
    exit 128 + the signal."""
    env = dict(os.environ)
    proc = start(env, "run", "--workload", "mlp", "--out", str(tmp_path))
    time.sleep(0.5)
    os.kill(proc.pid, stop)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == CODES[stop], stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    fault_row(
        f"{NAMES[stop]} to hwbench while it starts (imports)", "nothing measured", CODES[stop]
    )


def test_ctrl_c_while_hwbench_itself_imports_is_one_line(monkeypatch, capsys):
    """Before any command runs (`import hwbench.cli`), where the command's own handler is not
    yet in place."""
    real_import = builtins.__import__

    def interrupted(name: str, *args: object, **kwargs: object) -> object:
        if name == "hwbench.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    monkeypatch.setattr("sys.argv", ["hwbench", "list"])
    assert hwbench_script() == 130
    assert capsys.readouterr().err == "hwbench: interrupted while starting; nothing was measured\n"
