"""NVIDIA GPU energy through NVML (`nvidia-ml-py`, module `pynvml`).

Sources (NVML API reference, "Device Queries", as nvidia-ml-py's pynvml.py binds them):
- nvmlDeviceGetTotalEnergyConsumption: the GPU's energy in millijoules since the driver was
  last reloaded, "for Volta or newer fully supported devices"; the counter updates about every
  20-100 ms (PETSc's PetscLogGpuEnergyMeter notes, and issue 20), so 0.1 s is its resolution.
- nvmlDeviceGetPowerUsage (the fallback where the counter is not supported): the GPU's and its
  memory's power in milliwatts; "on Ampere (except GA100) or newer GPUs, the API returns power
  averaged over 1 sec interval": 1 s is its resolution, sampled every 0.1 s.
- nvmlDeviceGetHandleByUUID("GPU-<uuid>"): the GPU torch calls cuda:0 whatever
  CUDA_VISIBLE_DEVICES says (NVML's indices ignore it).
Zeus (`zeus` on PyPI) reads the same two calls; it is not used: it pulls pandas,
scikit-learn, amdsmi, tyro and typeguard for what is here a few calls (README, "Energy").
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hwbench.backends.energy_meter import Energy, EnergyMeter, PowerSampledMeter

COUNTER_RESOLUTION_S = 0.1
POWER_RESOLUTION_S = 1.0
POWER_PERIOD_S = 0.1


class NvmlCounterMeter(EnergyMeter):
    """The total-energy counter of one GPU (mJ; a 64-bit count that does not wrap in practice)."""

    source = "NVML nvmlDeviceGetTotalEnergyConsumption (mJ)"
    resolution_s = COUNTER_RESOLUTION_S

    def __init__(self, nvml: ModuleType, handle: Any, domain: str) -> None:
        self._nvml, self._handle, self._domain = nvml, handle, domain
        self._start_mj = nvml.nvmlDeviceGetTotalEnergyConsumption(handle)

    @property
    def domains(self) -> tuple[str, ...]:
        return (self._domain,)

    def read(self) -> dict[str, float]:
        now_mj = self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        return {self._domain: (now_mj - self._start_mj) / 1e3}

    def close(self) -> None:
        self._nvml.nvmlShutdown()


class NvmlPowerMeter(PowerSampledMeter):
    """nvmlDeviceGetPowerUsage (mW) sampled and integrated; NVML shut down on close."""

    def __init__(self, nvml: ModuleType, handle: Any, domain: str) -> None:
        self._nvml = nvml
        super().__init__(
            lambda: {domain: nvml.nvmlDeviceGetPowerUsage(handle) / 1e3},
            "NVML nvmlDeviceGetPowerUsage (mW), sampled and integrated",
            POWER_RESOLUTION_S,
            POWER_PERIOD_S,
        )

    def close(self) -> None:
        super().close()
        self._nvml.nvmlShutdown()


def _handle(nvml: ModuleType, uuid: str | None) -> Any:
    if uuid:
        return nvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
    return nvml.nvmlDeviceGetHandleByIndex(0)


def nvml_energy(nvml: ModuleType, uuid: str | None, domain: str = "gpu0") -> Energy:
    """A meter on the GPU `uuid` (torch's cuda:0; None: NVML's GPU 0): the energy counter, or
    sampled power where the counter is not supported; None and NVML's reason otherwise."""
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as error:
        return None, f"NVML cannot start: {error}"
    try:
        handle = _handle(nvml, uuid)
        try:
            return NvmlCounterMeter(nvml, handle, domain), ""
        except nvml.NVMLError as error:
            if error.value != nvml.NVML_ERROR_NOT_SUPPORTED:
                raise
        return NvmlPowerMeter(nvml, handle, domain), ""
    except nvml.NVMLError as error:
        nvml.nvmlShutdown()
        return None, f"NVML exposes neither energy nor power for this GPU: {error}"
