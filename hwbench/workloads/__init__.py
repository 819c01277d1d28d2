"""Model workloads: one file per family; `hf.py` wraps a user's Hugging Face directory."""

from __future__ import annotations

from pathlib import Path

from hwbench.registry import lookup, plugins
from hwbench.workloads.base import Workload
from hwbench.workloads.hf import HFModel


def make_workload(
    name: str,
    size: str,
    seed: int = 0,
    model_path: str | None = None,
    model_name: str | None = None,
) -> Workload:
    """The workload `name` at `size`; with `model_path`, the user's Hugging Face model, called
    `model_name` (default: its folder's name)."""
    if model_path is not None:
        return HFModel(size, seed, path=Path(model_path), name=model_name)
    return lookup("workloads", name)(size, seed)


def builtin_workloads() -> list[str]:
    """Names of the workloads the default suite runs (those that need no path)."""
    return sorted(
        n
        for n, cls in plugins("workloads").items()
        if not getattr(cls, "needs_path", False) and not getattr(cls, "needs_endpoint", False)
    )
