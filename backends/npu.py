"""Huawei Ascend NPUs through torch_npu; written from its API, not run here.

Sources (github.com/Ascend/pytorch, torch_npu/):
- npu/__init__.py: device_count() (0 when ASCEND_RT_VISIBLE_DEVICES is not ascending: "`rts`
  need ascending order"), Event (from npu/streams.py), max_memory_allocated,
  max_memory_reserved, reset_peak_memory_stats;
- npu/utils.py: synchronize(), get_device_name() (the current device's SoC name, e.g.
  "Ascend910B3", whatever the argument), get_device_properties() (name, total_memory,
  cube_core_num, vector_core_num, L2_cache_size), get_cann_version(module="CANN");
- npu/_backends.py: get_soc_version() -> int, the c10_npu::SocVersion enum of
  csrc/core/npu/NpuVariables.h (220-225 Ascend910B1..B4_1, 250-255 Ascend910_93xx = A3).
torch_npu is imported here, never through torch's backend autoload (hwbench/__init__.py turns
that off), so a torch_npu wheel without CANN is an unavailable device with its reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import import_module
from itertools import pairwise
from types import ModuleType
from typing import Any

import torch

from hwbench.backends.base import DTYPES, Device, EventTimer, MemoryStats, Timer
from hwbench.backends.energy_meter import Energy
from hwbench.backends.energy_npu_smi import npu_smi_energy

# SocVersion ranges -> family (NpuVariables.h; 100-104 are the first Ascend 910).
SOC_FAMILIES = (
    (range(100, 105), "910"),
    (range(200, 206), "310P"),
    (range(220, 226), "910B"),
    (range(240, 244), "310B"),
    (range(250, 256), "910C"),
    (range(260, 261), "950"),
)
BF16_FAMILIES = {"910B", "910C", "950"}  # bf16 only on A2 (910B) and newer
SPEED_ENV = (
    "TASK_QUEUE_ENABLE",  # 1 by default; 2 recommended for inference
    "CPU_AFFINITY_CONF",
    "ASCEND_RT_VISIBLE_DEVICES",
    "ASCEND_LAUNCH_BLOCKING",  # 1 makes launches synchronous: debugging only
)


def soc_family(soc_version: int) -> str:
    """910B / 910C / 310P ... from torch_npu's SoC version number, "unknown" otherwise."""
    for versions, family in SOC_FAMILIES:
        if soc_version in versions:
            return family
    return "unknown"


def visible_devices_warning(value: str | None) -> str | None:
    """Why ASCEND_RT_VISIBLE_DEVICES makes torch_npu see no device, or None."""
    if not value:
        return None
    try:
        ids = [int(part) for part in value.split(",")]
    except ValueError:
        return f"ASCEND_RT_VISIBLE_DEVICES={value!r} is not a comma-separated list of ids"
    if any(later <= earlier for earlier, later in pairwise(ids)):
        return f"ASCEND_RT_VISIBLE_DEVICES={value} is not ascending: torch_npu sees 0 devices"
    return None


def runtime() -> ModuleType:
    """torch_npu.npu, importing torch_npu (ImportError when it or CANN is missing)."""
    return import_module("torch_npu").npu


class Npu(Device):
    name = "npu"

    def available(self) -> tuple[bool, str]:
        try:
            npu = runtime()
        except ImportError as error:  # not installed, or CANN's libraries missing
            return (False, f"torch_npu cannot be imported: {error}")
        except Exception as error:  # the contract: never raise; torch_npu raises RuntimeError
            return (False, f"torch_npu failed to load: {type(error).__name__}: {error}")
        try:
            count = npu.device_count()
        except RuntimeError as error:  # driver / CANN mismatch
            return (False, f"torch_npu cannot count devices: {error}")
        if count == 0:
            warning = visible_devices_warning(os.environ.get("ASCEND_RT_VISIBLE_DEVICES"))
            return (False, "no Ascend NPU visible" + (f" ({warning})" if warning else ""))
        return (True, "")

    def torch_device(self, index: int = 0) -> torch.device:
        return torch.device("npu", index)

    def synchronize(self) -> None:
        runtime().synchronize()

    def timer(self) -> Timer:
        return EventTimer(runtime().Event)  # torch_npu.npu.Event(enable_timing=True), ms

    def memory(self) -> MemoryStats:
        npu = runtime()
        return MemoryStats(
            peak_allocated=npu.max_memory_allocated(),
            peak_reserved=npu.max_memory_reserved(),
        )

    def reset_peak_memory(self) -> None:
        runtime().reset_peak_memory_stats()

    def energy(self) -> Energy:
        """npu-smi's power for npu:0's NPU, sampled and integrated (energy_npu_smi.py)."""
        return npu_smi_energy()

    def family(self) -> str:
        return soc_family(runtime().get_soc_version())

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        if dtype == "fp64":
            return (False, "fp64 is not supported on Ascend NPUs")
        if dtype not in DTYPES:
            return (False, f"unknown dtype {dtype}")
        if dtype == "bf16" and (family := self.family()) not in BF16_FAMILIES:
            return (False, f"bf16 needs Ascend 910B or newer; this is {family}")
        return (True, "")

    def info(self) -> dict[str, Any]:
        npu = runtime()
        props = npu.get_device_properties(0)
        soc = npu.get_soc_version()
        return {
            "name": npu.get_device_name(0),
            "soc_version": soc,
            "family": soc_family(soc),
            "memory_bytes": props.total_memory,
            "cube_cores": getattr(props, "cube_core_num", None),
            "vector_cores": getattr(props, "vector_core_num", None),
            "l2_cache_bytes": getattr(props, "L2_cache_size", None),
            "device_count": npu.device_count(),
            "torch_npu": getattr(import_module("torch_npu"), "__version__", None),
            "cann": cann_version(npu),
            "driver": npu_smi_version(),
        }

    def environment(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in SPEED_ENV if key in os.environ}
        warning = visible_devices_warning(env.get("ASCEND_RT_VISIBLE_DEVICES"))
        if warning:
            env["warning"] = warning
        return env


def cann_version(npu: ModuleType) -> str | None:
    """CANN's version through torch_npu.npu.utils.get_cann_version (newer torch_npu only)."""
    get = getattr(getattr(npu, "utils", None), "get_cann_version", None)
    return get("CANN") if get is not None else None


def npu_smi_version() -> str | None:
    """The driver version from the `Version:` field of `npu-smi info`, where npu-smi exists."""
    if shutil.which("npu-smi") is None:
        return None
    try:
        out = subprocess.run(["npu-smi", "info"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"Version:\s*(\S+)", out.stdout)
    return match.group(1) if match else None
