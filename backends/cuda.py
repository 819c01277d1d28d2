"""NVIDIA GPUs through torch.cuda: CUDA-event timing, caching-allocator memory stats."""

from __future__ import annotations

import os
from typing import Any

import torch

from hwbench.backends.base import Device, MemoryStats, Timer


class CudaEventTimer(Timer):
    """A region timed by two CUDA events on the current stream (torch.cuda.Event docs)."""

    def __init__(self) -> None:
        self._start = torch.cuda.Event(enable_timing=True)
        self._end = torch.cuda.Event(enable_timing=True)

    def start(self) -> None:
        self._start.record()

    def stop(self) -> int:
        self._end.record()
        self._end.synchronize()
        return round(self._start.elapsed_time(self._end) * 1e6)  # ms -> ns


def _driver_version() -> int | None:
    """The driver's CUDA version as an int (e.g. 13000); torch exposes it only privately."""
    get = getattr(torch._C, "_cuda_getDriverVersion", None)
    return get() if get is not None else None


class Cuda(Device):
    name = "cuda"

    def available(self) -> tuple[bool, str]:
        if torch.version.cuda is None:
            return (False, f"torch {torch.__version__} is a build without CUDA")
        try:
            count = torch.cuda.device_count()
        except RuntimeError as error:
            return (False, f"CUDA runtime error: {error}")
        if count == 0:
            return (False, "no CUDA device")
        return (True, "")

    def torch_device(self, index: int = 0) -> torch.device:
        return torch.device("cuda", index)

    def synchronize(self) -> None:
        torch.cuda.synchronize()

    def timer(self) -> Timer:
        return CudaEventTimer()

    def memory(self) -> MemoryStats:
        return MemoryStats(
            peak_allocated=torch.cuda.max_memory_allocated(),
            peak_reserved=torch.cuda.max_memory_reserved(),
        )

    def reset_peak_memory(self) -> None:
        torch.cuda.reset_peak_memory_stats()

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        if dtype == "bf16" and not torch.cuda.is_bf16_supported():
            return (False, "this GPU has no bf16 support (compute capability < 8.0)")
        return super().supports_dtype(dtype)

    def info(self) -> dict[str, Any]:
        props = torch.cuda.get_device_properties(0)
        return {
            "name": props.name,
            "compute_capability": f"{props.major}.{props.minor}",
            "multiprocessors": props.multi_processor_count,
            "memory_bytes": props.total_memory,
            "cuda_runtime": torch.version.cuda,
            "driver": _driver_version(),
            "device_count": torch.cuda.device_count(),
        }

    def environment(self) -> dict[str, str]:
        keys = ("CUDA_VISIBLE_DEVICES", "CUDA_LAUNCH_BLOCKING", "NVIDIA_TF32_OVERRIDE")
        return {key: os.environ[key] for key in keys if key in os.environ}

    def flush_l2(self) -> None:
        """Evict the L2 cache by writing a buffer twice its size (for micro-benchmarks)."""
        size = torch.cuda.get_device_properties(0).L2_cache_size * 2 or 256 * 2**20
        torch.empty(size, dtype=torch.int8, device="cuda").zero_()
