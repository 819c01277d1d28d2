"""Huawei Ascend NPUs through torch_npu.

Written from torch_npu's documented API (Ascend/pytorch: torch_npu/npu/__init__.py, utils.py,
memory.py; summarized in shared/REFERENCE.md "Ascend through torch_npu"); not run here.
torch_npu is imported only inside this module, never through torch's backend autoload
(hwbench/__init__.py turns that off), so a torch_npu wheel without CANN is an unavailable
device with its reason rather than a crash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any

import torch

from hwbench.backends.base import Device, MemoryStats, Timer

# torch_npu.npu.get_soc_version() ranges (REFERENCE.md): 220-225 A2 (910B), 250-255 A3 (910C),
# 200-205 310P.
SOC_FAMILIES = ((range(220, 226), "910B"), (range(250, 256), "910C"), (range(200, 206), "310P"))
BF16_FAMILIES = {"910B", "910C"}  # bf16 only on A2 (910B) and newer
SPEED_ENV = (
    "TASK_QUEUE_ENABLE",
    "CPU_AFFINITY_CONF",
    "ASCEND_RT_VISIBLE_DEVICES",
    "ASCEND_LAUNCH_BLOCKING",
)


def soc_family(soc_version: int) -> str:
    """910B / 910C / 310P from torch_npu's SoC version number, "unknown" otherwise."""
    for versions, family in SOC_FAMILIES:
        if soc_version in versions:
            return family
    return "unknown"


def visible_devices_warning(value: str | None) -> str | None:
    """ASCEND_RT_VISIBLE_DEVICES ids must be ascending or the device count reads 0."""
    if not value:
        return None
    try:
        ids = [int(part) for part in value.split(",")]
    except ValueError:
        return f"ASCEND_RT_VISIBLE_DEVICES={value!r} is not a comma-separated list of ids"
    if ids != sorted(ids):
        return f"ASCEND_RT_VISIBLE_DEVICES={value} is not ascending: torch_npu will see 0 devices"
    return None


def _import_torch_npu() -> ModuleType:
    return import_module("torch_npu")


class NpuEventTimer(Timer):
    """A region timed by two torch.npu.Event(enable_timing=True); elapsed_time is in ms."""

    def __init__(self) -> None:
        self._start = torch.npu.Event(enable_timing=True)
        self._end = torch.npu.Event(enable_timing=True)

    def start(self) -> None:
        self._start.record()

    def stop(self) -> int:
        self._end.record()
        self._end.synchronize()
        return round(self._start.elapsed_time(self._end) * 1e6)  # ms -> ns


class Npu(Device):
    name = "npu"

    def available(self) -> tuple[bool, str]:
        try:
            _import_torch_npu()
        except ImportError as error:  # not installed, or CANN's libraries missing
            return (False, f"torch_npu cannot be imported: {error}")
        except Exception as error:  # torch_npu raises RuntimeError on driver/CANN mismatches
            return (False, f"torch_npu failed to load: {type(error).__name__}: {error}")
        warning = visible_devices_warning(os.environ.get("ASCEND_RT_VISIBLE_DEVICES"))
        if torch.npu.device_count() == 0:
            return (False, "no Ascend NPU visible" + (f" ({warning})" if warning else ""))
        return (True, "")

    def torch_device(self, index: int = 0) -> torch.device:
        return torch.device("npu", index)

    def synchronize(self) -> None:
        torch.npu.synchronize()

    def timer(self) -> Timer:
        return NpuEventTimer()

    def memory(self) -> MemoryStats:
        return MemoryStats(
            peak_allocated=torch.npu.max_memory_allocated(),
            peak_reserved=torch.npu.max_memory_reserved(),
        )

    def reset_peak_memory(self) -> None:
        torch.npu.reset_peak_memory_stats()

    def family(self) -> str:
        return soc_family(_import_torch_npu().npu.get_soc_version())

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        if dtype == "bf16" and self.family() not in BF16_FAMILIES:
            return (False, f"bf16 needs Ascend 910B or newer; this is {self.family()}")
        return super().supports_dtype(dtype)

    def info(self) -> dict[str, Any]:
        props = torch.npu.get_device_properties(0)
        torch_npu = _import_torch_npu()
        return {
            "name": torch.npu.get_device_name(0),
            "soc_version": torch_npu.npu.get_soc_version(),
            "family": self.family(),
            "memory_bytes": props.total_memory,
            "cube_cores": getattr(props, "cube_core_num", None),
            "vector_cores": getattr(props, "vector_core_num", None),
            "device_count": torch.npu.device_count(),
            "torch_npu": _package_version("torch_npu"),
            "cann": getattr(getattr(torch_npu, "version", None), "cann", None),
            "driver": npu_smi_version(),
        }

    def environment(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in SPEED_ENV if key in os.environ}
        warning = visible_devices_warning(env.get("ASCEND_RT_VISIBLE_DEVICES"))
        if warning:
            env["warning"] = warning
        return env


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def npu_smi_version() -> str | None:
    """The driver version line of `npu-smi info`, where npu-smi is installed."""
    if shutil.which("npu-smi") is None:
        return None
    try:
        out = subprocess.run(["npu-smi", "info"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.stdout.splitlines():
        if "Version" in line:
            return line.strip(" |")
    return None
