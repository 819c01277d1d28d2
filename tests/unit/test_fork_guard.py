"""The fork server's device-runtime guard (hwbench/execution/fork_guard.py): torch's and
torch_npu's entry points into their runtimes are stood in for while the server loads, so that
no import brings back the spawned accelerator worker (~10 s a case on an H200) unseen."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from hwbench.execution import fork_guard

ROOT = Path(__file__).parents[2]

# A fresh interpreter with a loaded torch_npu stood in for, the guard installed as the fork
# server installs it, strict, then everything the server preloads for the default suite: any
# call into a device runtime raises, naming its caller. (This machine's torch is CPU-only:
# its torch.cuda.is_available() returns before the driver call; with a CUDA build and no
# driver, as in CI's torch 2.6 step, the count finds no device and passes.)
PRELOAD_SCRIPT = """
import os, sys, types, importlib
os.environ["HWBENCH_FORK_GUARD"] = "strict"
import torch
npu = types.ModuleType("torch_npu.npu"); npu._lazy_init = lambda: None
npu_c = types.ModuleType("torch_npu._C"); npu_c._npu_getDeviceCount = lambda: 1
sys.modules.update({"torch_npu.npu": npu, "torch_npu._C": npu_c})
import hwbench.execution.fork_server_start
from hwbench.config import Suite
from hwbench.execution.runner import worker_preload
for module in ("hwbench.execution.worker", *worker_preload(Suite())):
    importlib.import_module(module)
EXTRA
print("clean")
"""
# A CUDA build's driver call finding a device (or none), given to torch._C after the preload
# (given before, torch's own imports take a CPU build for a CUDA one; a CUDA build's real one
# finds none here) and guarded as the server guards it.
COUNT = (
    "from hwbench.execution import fork_guard; fork_guard.release()\n"
    "torch._C._cuda_getDeviceCount = lambda: {n}\n"
    "fork_guard.install()\n"
    "torch._C._cuda_getDeviceCount()"
)


def run_preload(extra: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PRELOAD_SCRIPT.replace("EXTRA", extra)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip


def test_the_fork_servers_preload_touches_no_device_runtime():
    proc = run_preload()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "clean"


@pytest.mark.parametrize(
    "touch",
    [
        "torch.cuda._lazy_init()",
        COUNT.format(n=1),
        "sys.modules['torch_npu.npu']._lazy_init()",
        "sys.modules['torch_npu._C']._npu_getDeviceCount()",
    ],
)
def test_a_preload_that_touches_a_runtime_fails_loudly_naming_the_call(touch):
    proc = run_preload(touch)
    assert proc.returncode != 0
    assert "called in the fork server" in proc.stderr.splitlines()[-1]


def test_a_device_count_that_finds_no_device_is_no_touch():
    proc = run_preload(COUNT.format(n=0))
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_outside_strict_mode_the_touch_is_recorded_and_release_restores_torch(monkeypatch):
    monkeypatch.delenv(fork_guard.STRICT_ENV, raising=False)
    npu = types.ModuleType("torch_npu.npu")
    npu._lazy_init = lambda: "npu runtime up"
    monkeypatch.setitem(sys.modules, "torch_npu.npu", npu)
    original_cuda = torch.cuda._lazy_init
    monkeypatch.setattr(fork_guard, "touched", {})
    fork_guard.install()
    try:
        assert torch.cuda._lazy_init is not original_cuda
        assert npu._lazy_init() == "npu runtime up"  # the original still runs
        assert "torch_npu.npu._lazy_init() called in the fork server" in fork_guard.touched["npu"]
        assert fork_guard.unusable("npu") == fork_guard.touched["npu"]
        assert fork_guard.unusable("cuda") is None
    finally:
        touched = fork_guard.release()
    assert torch.cuda._lazy_init is original_cuda
    assert npu._lazy_init() == "npu runtime up" and set(touched) == {"npu"}


def test_live_accelerator_workers_are_capped_per_group():
    """Forked accelerator workers are cheap now, so the cap on how many are loaded at once
    comes from their device contexts, not their start."""
    from hwbench.config import Suite, Target
    from hwbench.execution.plan import expand
    from hwbench.execution.runner import LIVE_ACCELERATOR_CASES, LIVE_CASES, live_cases

    targets = (Target.parse("torch@cpu"), Target.parse("torch@cuda"))
    suite = Suite(workloads=("mlp",), targets=targets, scenarios=("latency",))
    cpu, cuda = expand(suite)
    assert live_cases(suite, cpu) == LIVE_CASES["tiny"] > LIVE_ACCELERATOR_CASES
    assert live_cases(suite, cpu, cuda) == LIVE_ACCELERATOR_CASES
    chosen = Suite(workloads=("mlp",), targets=targets, scenarios=("latency",), live_cases=20)
    assert live_cases(chosen, cpu, cuda) == 20  # the user's --live-cases wins
