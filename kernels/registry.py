"""Every kernel by name: each module of this package exports `KERNELS`; the file registers."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from hwbench.errors import unknown_choice
from hwbench.kernels.base import Kernel

NOT_KERNELS = {"base", "registry"}


@cache
def kernels() -> dict[str, Kernel]:
    """name -> Kernel, in file order."""
    package = importlib.import_module("hwbench.kernels")
    found: dict[str, Kernel] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in NOT_KERNELS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.update((kernel.name, kernel) for kernel in getattr(module, "KERNELS", ()))
    return found


def lookup(name: str) -> Kernel:
    """The kernel called `name`, or a UsageError listing the valid ones."""
    found = kernels()
    if name not in found:
        raise unknown_choice("kernel", name, list(found))
    return found[name]
