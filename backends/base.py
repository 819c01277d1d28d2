"""The device contract: synchronize, time, count memory, describe, give peak rates."""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from hwbench.backends.energy_meter import Energy
from hwbench.backends.peaks import Peak, stored_peak

DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


@dataclass(frozen=True)
class MemoryStats:
    """Peak memory since the last reset, in bytes (None where the device cannot tell)."""

    peak_allocated: int | None
    peak_reserved: int | None
    note: str = ""  # what the peak covers when not just the window since the reset

    def to_json(self) -> dict[str, Any]:
        """The record's `memory` block."""
        data: dict[str, Any] = {"peak_allocated": self.peak_allocated}
        data["peak_reserved"] = self.peak_reserved
        return {**data, "note": self.note} if self.note else data


class Timer(ABC):
    """Times one region; `stop()` returns the elapsed nanoseconds, synchronized."""

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> int: ...


class WallTimer(Timer):
    """perf_counter_ns around a region, after the device has finished its queued work."""

    def __init__(self, synchronize: Any) -> None:
        self._synchronize = synchronize
        self._t0 = 0

    def start(self) -> None:
        self._synchronize()
        self._t0 = time.perf_counter_ns()

    def stop(self) -> int:
        self._synchronize()
        return time.perf_counter_ns() - self._t0


class EventTimer(Timer):
    """A region timed by two device events made by `make_event(enable_timing=True)` (the
    torch.cuda.Event interface, which torch_npu.npu.Event shares): record, synchronize, and
    elapsed_time in ms."""

    def __init__(self, make_event: Callable[..., Any]) -> None:
        self._start = make_event(enable_timing=True)
        self._end = make_event(enable_timing=True)

    def start(self) -> None:
        self._start.record()

    def stop(self) -> int:
        self._end.record()
        self._end.synchronize()
        return round(self._start.elapsed_time(self._end) * 1e6)  # ms -> ns


class Device(ABC):
    """One kind of device; the only place that knows how to sync, time and count memory."""

    name: ClassVar[str]

    @abstractmethod
    def available(self) -> tuple[bool, str]:
        """(True, "") or (False, why); never raises."""

    @abstractmethod
    def torch_device(self, index: int = 0) -> torch.device:
        """The torch.device that tensors for this device go to."""

    @abstractmethod
    def synchronize(self) -> None:
        """Wait for all queued work on the device."""

    def timer(self) -> Timer:
        """A timer for one region; accelerators override with device events."""
        return WallTimer(self.synchronize)

    @abstractmethod
    def memory(self) -> MemoryStats:
        """Peak memory since the last `reset_peak_memory()`."""

    @abstractmethod
    def reset_peak_memory(self) -> None:
        """Start a new peak-memory window."""

    def energy(self) -> Energy:
        """A meter of this device's energy for one case (the caller closes it), or None and
        why there is none; never raises. Made in the case's worker, never at import."""
        return None, f"hwbench knows no energy counter for {self.name} devices"

    @abstractmethod
    def info(self) -> dict[str, Any]:
        """Name, versions, cores, memory: what identifies this device in a result."""

    def environment(self) -> dict[str, str]:
        """Environment variables that change this device's speed, as set now."""
        return {}

    @contextlib.contextmanager
    def case_settings(self) -> Iterator[None]:
        """Process-wide settings a case runs under, restored on exit. A case's worker enters
        them; importing or constructing a device never makes them (they would change the
        user's own process: the CLI's, or a pytest run's)."""
        yield

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        """Whether this device computes in `dtype` ("fp32", "bf16", "fp16"), and why not."""
        return (dtype in DTYPES, f"unknown dtype {dtype}")

    def peak(self, dtype: str) -> Peak | None:
        """Peak rates for `dtype` that `hwbench peak` measured on this machine, else None."""
        return stored_peak(self.name, dtype)
