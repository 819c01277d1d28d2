"""Test doubles loaded through HWBENCH_PLUGINS: engines that misbehave on purpose."""

from __future__ import annotations

import os
import signal
import time
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
