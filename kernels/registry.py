"""Every kernel by name: each module of this package exports `KERNELS`; the file registers."""

from __future__ import annotations

from functools import cache

from hwbench.kernels.base import Kernel
from hwbench.registry import choose, package_modules

NOT_KERNELS = {"base", "registry"}


@cache
def kernels() -> dict[str, Kernel]:
    """name -> Kernel, in file order."""
    modules = package_modules("hwbench.kernels", NOT_KERNELS)
    return {kernel.name: kernel for module in modules for kernel in getattr(module, "KERNELS", ())}


def lookup(name: str) -> Kernel:
    """The kernel called `name`, or a UsageError listing the valid ones."""
    return choose("kernel", name, kernels())
