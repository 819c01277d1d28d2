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
from functools import cache
from importlib.metadata import entry_points
from typing import Any

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


@cache
def plugins(kind: str) -> dict[str, type]:
    """name -> class for every plug-in of `kind` ("devices", "engines", ...)."""
    package = importlib.import_module(PACKAGES[kind])
    module_path, class_name = BASES[kind]
    base = getattr(importlib.import_module(module_path), class_name)
    found: dict[str, type] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name in SKIPPED_MODULES or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
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
    found = plugins(kind)
    if name not in found:
        raise unknown_choice(kind.rstrip("s"), name, list(found))
    return found[name]
