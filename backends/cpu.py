"""The host CPU: wall-clock timing, process RSS as memory, dtypes from the CPU's flags."""

from __future__ import annotations

import os
import platform
from functools import cache
from pathlib import Path
from typing import Any

import psutil
import torch

from hwbench.backends.base import Device, MemoryStats
from hwbench.backends.energy_meter import Energy
from hwbench.backends.energy_rapl import POWERCAP, rapl_energy

PROC_STATUS = Path("/proc/self/status")
POWERCAP_ENV = "HWBENCH_POWERCAP"  # another powercap root (a container's mount, a test's tree)
# Writing "5" resets the process's peak RSS (VmHWM): linux Documentation/filesystems/proc.rst
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")
# CPU flags that make a dtype a native compute type rather than an emulated one.
DTYPE_FLAGS = {
    "bf16": ("avx512_bf16", "amx_bf16", "bf16"),  # x86 and aarch64 (FEAT_BF16) spellings
    "fp16": ("avx512_fp16", "amx_fp16", "fphp"),
}


@cache
def cpuinfo() -> dict[str, str]:
    """The first processor block of /proc/cpuinfo ({} where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    block = text.split("\n\n", 1)[0]
    pairs = (line.split(":", 1) for line in block.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def cpu_model() -> str:
    """The CPU's marketing name."""
    info = cpuinfo()
    return info.get("model name") or info.get("Model name") or platform.processor() or "unknown"


def cpu_flags() -> set[str]:
    """Instruction-set flags ("flags" on x86, "Features" on aarch64)."""
    info = cpuinfo()
    return set((info.get("flags") or info.get("Features") or "").split())


def _vm_hwm_bytes() -> int | None:
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        return None
    return None


class CPU(Device):
    name = "cpu"

    def available(self) -> tuple[bool, str]:
        return (True, "")

    def torch_device(self, index: int = 0) -> torch.device:
        return torch.device("cpu")

    def synchronize(self) -> None:
        """CPU ops run synchronously in the calling thread: nothing to wait for."""

    def __init__(self) -> None:
        self._reset_error = "not reset"  # why the peak covers the whole process, until reset

    def memory(self) -> MemoryStats:
        peak = _vm_hwm_bytes() or psutil.Process().memory_info().rss
        note = f"peak of the whole process ({self._reset_error})" if self._reset_error else ""
        return MemoryStats(peak_allocated=peak, peak_reserved=None, note=note)

    def reset_peak_memory(self) -> None:
        """Reset the peak RSS (VmHWM) by writing 5 to /proc/self/clear_refs (Linux's
        proc(5)); where that is impossible, `memory()` says what its peak covers instead."""
        try:
            PROC_CLEAR_REFS.write_text("5")
        except OSError as error:
            self._reset_error = f"{PROC_CLEAR_REFS}: {error.strerror or error}"
        else:
            self._reset_error = ""

    def energy(self) -> Energy:
        """RAPL's package and DRAM counters (backends/energy_rapl.py)."""
        return rapl_energy(Path(os.environ.get(POWERCAP_ENV) or POWERCAP))

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        if dtype == "fp32":
            return (True, "")
        flags = DTYPE_FLAGS.get(dtype)
        if flags is None:
            return (False, f"unknown dtype {dtype}")
        if cpu_flags() & set(flags):
            return (True, "")
        return (False, f"this CPU has no native {dtype} instructions (none of {', '.join(flags)})")

    def info(self) -> dict[str, Any]:
        memory = psutil.virtual_memory()
        return {
            "name": cpu_model(),
            "arch": platform.machine(),
            "physical_cores": psutil.cpu_count(logical=False),
            "logical_cores": psutil.cpu_count(logical=True),
            "affinity_cores": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else None,
            "torch_threads": torch.get_num_threads(),
            "memory_bytes": memory.total,
            "native_dtypes": [d for d in ("fp32", "bf16", "fp16") if self.supports_dtype(d)[0]],
        }

    def environment(self) -> dict[str, str]:
        keys = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "KMP_AFFINITY", "OMP_PROC_BIND")
        return {key: os.environ[key] for key in keys if key in os.environ}
