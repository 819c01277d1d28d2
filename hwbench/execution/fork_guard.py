"""Keeps the fork server free of device runtimes, so that accelerator workers fork from it too.

A process forked from one that initialized CUDA cannot use CUDA ("Cannot re-initialize CUDA in
forked subprocess", torch/cuda/__init__.py `_lazy_init`), and even `torch.cuda.is_available()`
initializes the driver and poisons forks unless PYTORCH_NVML_BASED_CUDA_CHECK=1 (its
docstring); torch_npu has the same rule for the NPU runtime (torch_npu/npu/__init__.py
`_lazy_init`, `_after_fork`). The fork server installs this guard before anything else it
preloads (hwbench/execution/fork_server_start.py): it sets the NVML check and replaces torch's
entry points into each runtime with stand-ins that record which code called them. A forked
worker puts the originals back (`release`); for a device whose runtime the server touched
(`unusable`) the runner spawns workers instead. With HWBENCH_FORK_GUARD=strict (the tests) a
stand-in raises at once.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

STRICT_ENV = "HWBENCH_FORK_GUARD"
# (module, attribute) of each device runtime's ways in, torch's and torch_npu's: an init, or
# a device count (counted here only when it finds a device: with no driver there is nothing to
# poison, as in CI, where a CUDA build of torch may run without a GPU). A module not imported
# yet, or an attribute a build lacks (a CPU torch has no torch._C._cuda_init), is left alone:
# torch_npu is never imported in the server unless a preload does it.
COUNTS = {"_cuda_getDeviceCount", "_npu_getDeviceCount"}
ENTRY_POINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "cuda": (
        ("torch.cuda", "_lazy_init"),
        ("torch._C", "_cuda_init"),
        ("torch._C", "_cuda_getDeviceCount"),
    ),
    "npu": (
        ("torch_npu.npu", "_lazy_init"),
        ("torch_npu._C", "_npu_init"),
        ("torch_npu._C", "_npu_getDeviceCount"),
    ),
}

touched: dict[str, str] = {}  # device -> where the server's code reached its runtime
_originals: dict[tuple[str, str], Callable[..., Any]] = {}


class DeviceInitInForkServer(RuntimeError):
    """A device runtime was initialized in the fork server (strict mode)."""


def install() -> None:
    """Put the stand-ins in place of every entry point present in this process."""
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    for device, points in ENTRY_POINTS.items():
        for module_name, attribute in points:
            module = sys.modules.get(module_name)
            if module_name == "torch.cuda" and module is None and "torch" in sys.modules:
                module = importlib.import_module(module_name)
            original = getattr(module, attribute, None) if module is not None else None
            if original is None or (module_name, attribute) in _originals:
                continue
            _originals[(module_name, attribute)] = original
            setattr(module, attribute, _stand_in(device, f"{module_name}.{attribute}", original))


def release() -> dict[str, str]:
    """Put the originals back (in a forked worker, before its case); the devices touched."""
    for (module_name, attribute), original in _originals.items():
        setattr(sys.modules[module_name], attribute, original)
    _originals.clear()
    return dict(touched)


def _stand_in(device: str, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    counts = name.rsplit(".", 1)[-1] in COUNTS

    def guarded(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs) if counts else None
        if counts and not result:
            return result  # no device: nothing initialized that a fork could trip on
        caller = "".join(traceback.format_stack(limit=6)[:-1]).strip().splitlines()
        where = f"{name}() called in the fork server, from {' / '.join(caller[-2:])}"
        if os.environ.get(STRICT_ENV) == "strict":
            raise DeviceInitInForkServer(where)
        touched.setdefault(device, where)
        return result if counts else original(*args, **kwargs)

    return guarded


def unusable(device: str) -> str | None:
    """Why a worker forked from the server cannot use `device`'s runtime, or None: the server
    touched it (the guard saw it), or torch's own after-fork flag says so."""
    if device in touched:
        return touched[device]
    module = {"cuda": "torch.cuda", "npu": "torch_npu.npu"}.get(device)
    in_bad_fork = getattr(sys.modules.get(module or ""), "_is_in_bad_fork", None)
    if in_bad_fork is not None and in_bad_fork():
        return f"{module} was initialized in the fork server"
    return None
