"""Find devices, engines, workloads and scenarios: the file is the registration.

Each plug-in kind lives in one package, one class per module with a `name`; third-party
plug-ins register through the entry point groups `hwbench.devices`, `hwbench.engines`,
`hwbench.workloads` and `hwbench.scenarios`, or, unpackaged, by naming their modules in
HWBENCH_PLUGINS (comma-separated, importable module names; worker processes inherit it).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from collections.abc import Collection, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any, TypeVar

from hwbench.errors import unknown_choice

PACKAGES = {
    "devices": "hwbench.backends",
    "engines": "hwbench.engines",
    "workloads": "hwbench.workloads",
    "scenarios": "hwbench.scenarios",
}
BASES = {
    "devices": ("hwbench.backends.base", "Device"),
    "engines": ("hwbench.engines.base", "Engine"),
    "workloads": ("hwbench.workloads.base", "Workload"),
    "scenarios": ("hwbench.scenarios.base", "Scenario"),
}
SKIPPED_MODULES = {"base"}


T = TypeVar("T")


def package_modules(package_name: str, skipped: Collection[str] = SKIPPED_MODULES) -> list:
    """Every module of a package in file-name order, but `skipped` and private ones: the file
    is the registration (devices, engines, workloads, scenarios, kernels, ladders)."""
    package = importlib.import_module(package_name)
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
    return [
        importlib.import_module(f"{package_name}.{name}")
        for name in names
        if name not in skipped and not name.startswith("_")
    ]


def choose(kind: str, name: str, found: Mapping[str, T]) -> T:
    """found[name], or a UsageError naming `name` and every valid one."""
    if name not in found:
        raise unknown_choice(kind, name, list(found))
    return found[name]


@cache
def plugins(kind: str) -> dict[str, type]:
    """name -> class for every plug-in of `kind` ("devices", "engines", ...)."""
    module_path, class_name = BASES[kind]
    base = getattr(importlib.import_module(module_path), class_name)
    found: dict[str, type] = {}
    for module in package_modules(PACKAGES[kind]):
        found.update(_named_classes(module, base))
    for name in filter(None, os.environ.get("HWBENCH_PLUGINS", "").split(",")):
        found.update(_named_classes(importlib.import_module(name.strip()), base))
    for entry in entry_points(group=f"hwbench.{kind}"):
        plugin = entry.load()
        found[plugin.name] = plugin
    return found


def _named_classes(module: Any, base: type) -> dict[str, type]:
    return {
        obj.name: obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, base)
        and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
        and isinstance(getattr(obj, "name", None), str)
    }


def lookup(kind: str, name: str) -> type:
    """The plug-in class called `name`, or a UsageError listing the valid names."""
    return choose(kind.rstrip("s"), name, plugins(kind))
