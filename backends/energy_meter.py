"""The energy meter a device may offer (`Device.energy()`): cumulative joules per domain,
read at any moment, from a counter (RAPL, NVML's total energy) or from power samples
integrated in a background thread (NVML's power, npu-smi)."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

Energy = tuple["EnergyMeter | None", str]  # a meter, or None and why there is none


class EnergyMeter(ABC):
    """Joules each domain used since the meter was made; safe to read from two threads."""

    source: str  # what is read, e.g. "RAPL energy_uj (Linux powercap sysfs)"
    resolution_s: float  # how often the counter or the power reading updates, s
    error: str = ""  # why the meter stopped reading mid-way, if it did

    @property
    @abstractmethod
    def domains(self) -> tuple[str, ...]:
        """The names of what is measured, e.g. ("package-0", "dram")."""

    @abstractmethod
    def read(self) -> dict[str, float]:
        """Joules per domain since the meter was made (wrap-arounds undone)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the meter holds (a sampling thread, a library handle)."""


class PowerSampledMeter(EnergyMeter):
    """Energy from power samples taken every `period_s` in a background thread: trapezoids
    between samples, and the last sample held until the moment of a read. `resolution_s`:
    the span one reading stands for (a reading that averages over 1 s resolves 1 s)."""

    def __init__(
        self,
        power_w: Callable[[], dict[str, float]],
        source: str,
        resolution_s: float,
        period_s: float | None = None,
    ) -> None:
        self.source, self.resolution_s, self._power_w = source, resolution_s, power_w
        self.period_s = period_s or resolution_s
        self._lock = threading.Lock()
        self._last_t, self._last_w = time.perf_counter(), power_w()  # first sample: fail here
        self._joules = dict.fromkeys(self._last_w, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="hwbench-power", daemon=True)
        self._thread.start()

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(self._joules)

    def _sample(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                watts = self._power_w()
            except (OSError, RuntimeError, ValueError) as error:
                self.error = f"power sampling stopped: {error}"
                return
            self.add(time.perf_counter(), watts)

    def add(self, t: float, watts: dict[str, float]) -> None:
        """One power sample at `t` (perf_counter s): the trapezoid since the last one."""
        with self._lock:
            dt = t - self._last_t
            for name, w in watts.items():
                self._joules[name] = self._joules.get(name, 0.0) + dt * (w + self._last_w[name]) / 2
            self._last_t, self._last_w = t, watts

    def read(self) -> dict[str, float]:
        with self._lock:
            held = time.perf_counter() - self._last_t
            return {n: j + held * self._last_w[n] for n, j in self._joules.items()}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10 * self.period_s + 5)
