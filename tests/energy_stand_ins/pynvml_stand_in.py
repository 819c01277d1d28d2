"""A stand-in for `pynvml` at the function level: records every call and returns the values
the test sets (no figure from it is a measurement)."""

from __future__ import annotations

from typing import Any

NVML_ERROR_NOT_SUPPORTED = 3  # nvml.h's nvmlReturn_t values, as pynvml has them
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_LIBRARY_NOT_FOUND = 12


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


class PynvmlStandIn:
    """The pynvml calls hwbench makes; `energy_mj` / `power_mw` are what the GPU 'reports',
    `errors` maps a call's name to the NVML error code it raises."""

    NVMLError = NVMLError
    NVML_ERROR_NOT_SUPPORTED = NVML_ERROR_NOT_SUPPORTED

    def __init__(self, energy_mj: int = 0, power_mw: int = 0, **errors: int) -> None:
        self.energy_mj, self.power_mw, self.errors = energy_mj, power_mw, errors
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if name in self.errors:
            raise NVMLError(self.errors[name])

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def nvmlInit(self) -> None:
        self._call("nvmlInit")

    def nvmlShutdown(self) -> None:
        self._call("nvmlShutdown")

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> str:
        self._call("nvmlDeviceGetHandleByUUID", uuid)
        return f"handle:{uuid}"

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        self._call("nvmlDeviceGetHandleByIndex", index)
        return f"handle:{index}"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: str) -> int:
        self._call("nvmlDeviceGetTotalEnergyConsumption", handle)
        return self.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle: str) -> int:
        self._call("nvmlDeviceGetPowerUsage", handle)
        return self.power_mw
