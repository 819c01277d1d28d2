"""NVIDIA GPUs through torch.cuda: CUDA-event timing, caching-allocator memory stats."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pynvml
import torch

from hwbench.backends.base import DTYPES, Device, EventTimer, MemoryStats, Timer
from hwbench.backends.energy_meter import Energy
from hwbench.backends.energy_nvml import nvml_energy


def cuda_driver_api_version() -> str | None:
    """The CUDA version the driver supports, e.g. "13.0": torch's private binding where it has
    one, else the driver's cuDriverGetVersion (CUDA Driver API, "Version Management"; torch
    2.11 had no binding and the H200 run recorded None)."""
    get = getattr(torch._C, "_cuda_getDriverVersion", None)
    code = get() if get is not None else _driver_get_version()
    if code is None:
        return None
    return f"{code // 1000}.{code % 1000 // 10}"  # code = 1000 * major + 10 * minor


def _driver_get_version() -> int | None:
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    version = ctypes.c_int()
    status = libcuda.cuDriverGetVersion(ctypes.byref(version))  # CUresult, 0 = CUDA_SUCCESS
    return version.value if status == 0 else None


def nvidia_driver_version() -> str | None:
    """The NVIDIA driver version (e.g. "570.86.15") from nvidia-smi, where it is installed."""
    if shutil.which("nvidia-smi") is None:
        return None
    query = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
    try:
        out = subprocess.run(query, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None


def keep_fp32_ieee() -> None:
    """Turn TF32 off for float32 work: PyTorch runs cuDNN convolutions in TF32 by default
    (torch.backends.cudnn.allow_tf32 = True; matmuls default to False), which on an H200 put
    resnet50's fp32 output 3.1e-4 from the CPU reference, past fp32's 1e-4 tolerance. Source:
    pytorch.org/docs/stable/notes/cuda.html, "TensorFloat-32 (TF32) on Ampere (and later)
    devices". `Cuda.info` reports the flags as they are when it is asked."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


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
            hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
            note = f" (CUDA_VISIBLE_DEVICES={hidden!r})" if hidden is not None else ""
            return (False, f"no CUDA device{note}")
        return (True, "")

    def torch_device(self, index: int = 0) -> torch.device:
        return torch.device("cuda", index)

    def synchronize(self) -> None:
        torch.cuda.synchronize()

    def timer(self) -> Timer:
        return EventTimer(torch.cuda.Event)  # torch.cuda.Event docs

    def memory(self) -> MemoryStats:
        return MemoryStats(
            peak_allocated=torch.cuda.max_memory_allocated(),
            peak_reserved=torch.cuda.max_memory_reserved(),
        )

    def reset_peak_memory(self) -> None:
        torch.cuda.reset_peak_memory_stats()

    def energy(self) -> Energy:
        """NVML's energy counter (or sampled power) of the GPU torch calls cuda:0."""
        try:
            uuid = getattr(torch.cuda.get_device_properties(0), "uuid", None)
        except (RuntimeError, AssertionError) as error:  # no CUDA device, or torch without CUDA
            return None, f"no CUDA device to meter: {error}"
        return nvml_energy(pynvml, str(uuid) if uuid is not None else None)

    def supports_dtype(self, dtype: str) -> tuple[bool, str]:
        if dtype not in DTYPES:
            return (False, f"unknown dtype {dtype}")
        if dtype == "bf16" and not torch.cuda.is_bf16_supported():
            return (False, "this GPU has no bf16 support (compute capability < 8.0)")
        return (True, "")

    def info(self) -> dict[str, Any]:
        props = torch.cuda.get_device_properties(0)
        return {
            "name": props.name,
            "compute_capability": f"{props.major}.{props.minor}",
            "multiprocessors": props.multi_processor_count,
            "memory_bytes": props.total_memory,
            "l2_cache_bytes": getattr(props, "L2_cache_size", None),
            "cuda_runtime": torch.version.cuda,
            "cuda_driver_api": cuda_driver_api_version(),
            "driver": nvidia_driver_version(),
            "device_count": torch.cuda.device_count(),
            "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        }

    @contextlib.contextmanager
    def case_settings(self) -> Iterator[None]:
        cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
        before = cudnn.allow_tf32, matmul.allow_tf32
        keep_fp32_ieee()
        try:
            yield
        finally:
            cudnn.allow_tf32, matmul.allow_tf32 = before

    def environment(self) -> dict[str, str]:
        keys = ("CUDA_VISIBLE_DEVICES", "CUDA_LAUNCH_BLOCKING", "NVIDIA_TF32_OVERRIDE")
        return {key: os.environ[key] for key in keys if key in os.environ}
