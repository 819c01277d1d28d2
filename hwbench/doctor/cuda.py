"""NVIDIA GPUs: torch built with CUDA, a driver new enough for torch's CUDA (cuda_table.py),
hwbench's cuda device usable, and the engines' CUDA builds."""

from __future__ import annotations

import re

from hwbench.doctor.cuda_table import MINOR_COMPAT_FLOOR, TABLE_SOURCE, TOOLKIT_DRIVER
from hwbench.doctor.engines import check_onnxruntime, check_vllm
from hwbench.doctor.finding import Finding, fail, passed, ready, warn
from hwbench.doctor.host import Host
from hwbench.doctor.versions import at_least, numbers

PROC_VERSION = "/proc/driver/nvidia/version"
# "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  ..." and the open modules'
# "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  575.57.08  Release Build ..."
KERNEL_MODULE = re.compile(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)")
TORCH_FIX = (
    "install a CUDA build of torch for a CUDA your driver runs: pip install torch "
    "--index-url https://download.pytorch.org/whl/cu<XY> (pytorch.org/get-started/locally)"
)


def driver_version(host: Host) -> str | None:
    """The NVIDIA driver's version from nvidia-smi, else from the kernel module's /proc file."""
    ran = host.run("nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader")
    if ran is not None and ran.code == 0 and ran.out.strip():
        return ran.out.strip().splitlines()[0].strip()
    try:
        text = host.path(PROC_VERSION).read_text()
    except OSError:  # no driver loaded
        return None
    match = KERNEL_MODULE.search(text)
    return match.group(1) if match else None


def check_torch_build(torch: str | None, cuda: str | None) -> Finding:
    if cuda is None:
        return fail("torch build", f"torch {torch} is a CPU-only build (no CUDA)", TORCH_FIX)
    return passed("torch build", f"torch {torch}, built with CUDA {cuda}")


def check_driver(driver: str | None, cuda: str | None) -> Finding:
    """The driver against the CUDA torch was built with (NVIDIA's Tables 2 and 3)."""
    parts = numbers(cuda or "")
    floor = MINOR_COMPAT_FLOOR.get(parts[0]) if parts else None
    shipped = TOOLKIT_DRIVER.get(".".join(map(str, parts[:2])))
    if driver is None:
        needed = f" >= {shipped or floor}" if floor else ""
        return fail(
            "driver",
            f"no NVIDIA driver: no nvidia-smi on PATH and no {PROC_VERSION}",
            f"install the NVIDIA driver{needed} (https://www.nvidia.com/drivers)",
        )
    if cuda is None:
        return passed("driver", f"driver {driver}")
    if floor is None:
        return warn(
            "driver",
            f"driver {driver}; torch's CUDA {cuda} is not in {TABLE_SOURCE}",
            f"check NVIDIA's CUDA {cuda} release notes for the driver it needs",
        )
    if not at_least(driver, floor):
        return fail(
            "driver",
            f"driver {driver} is too old for torch's CUDA {cuda}: "
            f"CUDA {parts[0]}.x needs >= {floor} ({TABLE_SOURCE})",
            f"update the NVIDIA driver to >= {shipped or floor}, or install a torch built for "
            "an older CUDA",
        )
    if shipped and not at_least(driver, shipped):
        return warn(
            "driver",
            f"driver {driver} runs torch's CUDA {cuda} through minor version compatibility "
            f"(CUDA {cuda} shipped with {shipped})",
            f"features that need a newer driver fail; update to >= {shipped} to rule it out",
        )
    return passed("driver", f"driver {driver}, >= {shipped or floor} for torch's CUDA {cuda}")


def check_device(seen: tuple[bool, str]) -> Finding:
    ok, reason = seen
    if ok:
        return passed("device", "hwbench sees a CUDA GPU")
    return fail("device", reason, "nvidia-smi must list the GPU; check CUDA_VISIBLE_DEVICES")


def cuda_findings(host: Host) -> list[Finding]:
    cuda = host.torch_cuda()
    findings = [
        check_torch_build(host.version("torch"), cuda),
        check_driver(driver_version(host), cuda),
    ]
    if ready(findings):
        findings.append(check_device(host.device_ready("cuda")))
    return [*findings, check_onnxruntime("cuda", host), check_vllm("cuda", host)]
