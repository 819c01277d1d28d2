"""Test doubles loaded through HWBENCH_PLUGINS: engines that misbehave on purpose."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from hwbench.engines.base import Session, Spec
from hwbench.engines.torch_eager import EagerSession, TorchEager


class MisbehavingEngine(TorchEager):
    """Eager torch, except that `misbehave()` runs as prepare() starts and `wrap()` may
    replace the session it returns; each test engine overrides one of them."""

    name = None  # not an engine itself (the registry takes classes whose name is a string)

    def prepare(self, spec: Spec, example_inputs: Any = None) -> Session:
        self.misbehave()
        return self.wrap(super().prepare(spec))

    def misbehave(self) -> None:
        pass

    def wrap(self, session: EagerSession) -> Session:
        return session


class RaisingEngine(MisbehavingEngine):
    """prepare() raises, as a broken backend would."""

    name = "test-raise"

    def misbehave(self) -> None:
        raise RuntimeError("backend exploded on purpose")


class CrashingEngine(MisbehavingEngine):
    """The worker process dies from a signal, as on a segfault in a native library."""

    name = "test-crash"

    def misbehave(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


class HangingEngine(MisbehavingEngine):
    """prepare() never returns, as a deadlocked driver would."""

    name = "test-hang"

    def misbehave(self) -> None:
        if mark := os.environ.get("HWBENCH_TEST_HANG_MARK"):
            Path(mark).touch()  # tells a test the hang has begun
        time.sleep(3600)


class PerturbedSession(EagerSession):
    def run(self, placed: Any) -> Any:
        out = super().run(placed)
        return out + 0.05 * out.abs().mean() * torch.ones_like(out)


class PerturbingEngine(MisbehavingEngine):
    """Computes a slightly different function: parity must catch it."""

    name = "test-perturb"

    def wrap(self, session: EagerSession) -> Session:
        return PerturbedSession(session.model, session.device, session.dtype)


class OrphaningEngine(MisbehavingEngine):
    """Starts a process it never stops (as a leaky runtime's helper would) and writes its pid
    to $HWBENCH_TEST_ORPHAN_PID; otherwise eager torch."""

    name = "test-orphan"

    def misbehave(self) -> None:
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        Path(os.environ["HWBENCH_TEST_ORPHAN_PID"]).write_text(str(helper.pid))


class EnvironmentEngine(MisbehavingEngine):
    """Fails unless the worker sees $HWBENCH_TEST_EXPECT and writes a line to stderr; writes
    its multiprocessing name ("hwbench-worker" when forked by the runner) to
    $HWBENCH_TEST_WORKER_NAME."""

    name = "test-env"

    def misbehave(self) -> None:
        name = multiprocessing.current_process().name
        Path(os.environ["HWBENCH_TEST_WORKER_NAME"]).write_text(name)
        print("stderr of the worker", file=sys.stderr, flush=True)
        if os.environ.get("HWBENCH_TEST_EXPECT") != "this case":
            os._exit(3)


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


class CrashingLaterEngine(MisbehavingEngine):
    """Eager torch that dies between interleaved passes."""

    name = "test-crash-later"

    def wrap(self, session: EagerSession) -> Session:
        return CrashLaterSession(session.model, session.device, session.dtype)
