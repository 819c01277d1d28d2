"""Which devices this machine shows signs of: `hwbench doctor` without --device checks the CPU
and those (a CUDA box is not "not ready" for lacking Ascend's stack), and names the others."""

from __future__ import annotations

import shutil

from hwbench.doctor.cann import find_toolkit
from hwbench.doctor.host import Host


def on_path(host: Host, program: str) -> bool:
    return shutil.which(program, path=host.env.get("PATH", "")) is not None


def cuda_signs(host: Host) -> list[str]:
    """What says CUDA is meant to run here: a CUDA build of torch, an NVIDIA driver."""
    signs = []
    if host.torch_cuda() is not None:
        signs.append(f"torch built for CUDA {host.torch_cuda()}")
    if on_path(host, "nvidia-smi") or host.path("/proc/driver/nvidia/version").exists():
        signs.append("an NVIDIA driver")
    return signs


def npu_signs(host: Host) -> list[str]:
    """What says an Ascend NPU is meant to run here: torch_npu, CANN, the driver's npu-smi."""
    signs = []
    if host.version("torch-npu") or host.version("torch_npu"):
        signs.append("torch_npu installed")
    if host.env.get("ASCEND_HOME_PATH") or find_toolkit(host) is not None:
        signs.append("a CANN toolkit")
    if on_path(host, "npu-smi"):
        signs.append("npu-smi")
    return signs


SIGNS = {"cuda": cuda_signs, "npu": npu_signs}
WHAT_SIGNS = {
    "cuda": "no CUDA build of torch, no NVIDIA driver",
    "npu": "no torch_npu, no CANN toolkit, no npu-smi",
}


def present(device: str, host: Host) -> bool:
    """Whether `device` is worth checking unasked: the CPU always, an accelerator with any
    sign of its stack, a plug-in's device when hwbench sees it."""
    if device == "cpu":
        return True
    if device in SIGNS:
        return bool(SIGNS[device](host))
    return host.device_ready(device)[0]
