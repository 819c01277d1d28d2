"""Test doubles loaded through HWBENCH_PLUGINS: engines that misbehave on purpose."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import torch

from hwbench.backends.base import Device
from hwbench.engines.base import Engine, Session
from hwbench.engines.torch_eager import EagerSession, TorchEager
from hwbench.workloads.base import Workload


class RaisingEngine(Engine):
    """prepare() raises, as a broken backend would."""

    name = "test-raise"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: Any = None,
    ) -> Session:
        raise RuntimeError("backend exploded on purpose")


class CrashingEngine(Engine):
    """The worker process dies from a signal, as on a segfault in a native library."""

    name = "test-crash"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: Any = None,
    ) -> Session:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


class HangingEngine(Engine):
    """prepare() never returns, as a deadlocked driver would."""

    name = "test-hang"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: Any = None,
    ) -> Session:
        if mark := os.environ.get("HWBENCH_TEST_HANG_MARK"):
            Path(mark).touch()  # tells a test the hang has begun
        time.sleep(3600)
        raise AssertionError("unreachable")


class PerturbedSession(EagerSession):
    def run(self, placed: Any) -> Any:
        out = super().run(placed)
        return out + 0.05 * out.abs().mean() * torch.ones_like(out)


class PerturbingEngine(TorchEager):
    """Computes a slightly different function: parity must catch it."""

    name = "test-perturb"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: Any = None,
    ) -> Session:
        session = super().prepare(workload, device, dtype, options)
        return PerturbedSession(session.model, device, dtype)


class OrphaningEngine(TorchEager):
    """Starts a process it never stops (as a leaky runtime's helper would) and writes its pid
    to $HWBENCH_TEST_ORPHAN_PID; otherwise eager torch."""

    name = "test-orphan"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: Any = None,
    ) -> Session:
        import subprocess
        import sys

        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.environ["HWBENCH_TEST_ORPHAN_PID"], "w") as pid_file:
            pid_file.write(str(helper.pid))
        return super().prepare(workload, device, dtype, options)


class EnvironmentEngine(TorchEager):
    """Fails unless the worker sees $HWBENCH_TEST_EXPECT and writes a line to stderr; writes
    its multiprocessing name ("hwbench-worker" when forked by the runner) to
    $HWBENCH_TEST_WORKER_NAME."""

    name = "test-env"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: Any = None,
    ) -> Session:
        import multiprocessing
        import sys

        with open(os.environ["HWBENCH_TEST_WORKER_NAME"], "w") as name_file:
            name_file.write(multiprocessing.current_process().name)
        print("stderr of the worker", file=sys.stderr, flush=True)
        if os.environ.get("HWBENCH_TEST_EXPECT") != "this case":
            os._exit(3)
        return super().prepare(workload, device, dtype, options)


class CrashLaterSession(EagerSession):
    """Kills its process on the first run after a pause of 50 ms or more, as an interleaved
    case's second pass makes."""

    last_run: float | None = None

    def run(self, placed: Any) -> Any:
        now = time.monotonic()
        if self.last_run is not None and now - self.last_run > 0.05:
            os.kill(os.getpid(), signal.SIGKILL)
        self.last_run = now
        return super().run(placed)


class CrashingLaterEngine(TorchEager):
    """Eager torch that dies between interleaved passes."""

    name = "test-crash-later"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: Any = None,
    ) -> Session:
        session = super().prepare(workload, device, dtype, options)
        return CrashLaterSession(session.model, device, dtype)
