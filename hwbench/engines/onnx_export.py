"""A workload exported to ONNX for one dtype and one set of input shapes, through the cache.

Export uses torch.onnx.export(dynamo=True) at a pinned opset, on the CPU (the file does not
depend on the device that runs it), with static shapes: one file per input shape.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from pathlib import Path
from typing import Any

import torch

import hwbench
from hwbench.backends.base import DTYPES
from hwbench.engines.base import cast_inputs
from hwbench.export_cache import CacheEntry, cache_root, fetch
from hwbench.packages import package_version
from hwbench.workloads.base import UserModel, Workload

OPSET = 18
MODEL_FILE = "model.onnx"  # its weights go beside it in model.onnx.data (external data)
OUTPUT_NAME = "output"
CACHE_FORMAT = 1  # bump when the layout of an entry or the export call changes
# Packages whose version changes the exported graph (transformers: `--model` workloads).
EXPORT_PACKAGES = ("torch", "onnx", "onnxscript", "transformers")


def input_names(count: int) -> list[str]:
    """The ONNX graph's input names, in `model(*inputs)` order."""
    return [f"input_{i}" for i in range(count)]


def exported(
    workload: Workload, dtype: str, inputs: tuple[torch.Tensor, ...]
) -> tuple[Path, CacheEntry]:
    """The .onnx path of `workload` in `dtype` for the shapes of `inputs`, and its cache entry."""
    placed = cast_inputs(inputs, torch.device("cpu"), dtype)
    parts = key_parts(workload, dtype, placed)
    entry = fetch(cache_root("onnx"), parts, lambda d: export(workload, dtype, placed, d))
    return entry.directory / MODEL_FILE, entry


def export(
    workload: Workload, dtype: str, inputs: tuple[torch.Tensor, ...], directory: Path
) -> None:
    """Write MODEL_FILE (and its external data) for `workload` in `dtype` into `directory`."""
    model = workload.build().to(dtype=DTYPES[dtype])
    torch.onnx.export(
        model,
        inputs,
        directory / MODEL_FILE,
        dynamo=True,
        opset_version=OPSET,
        input_names=input_names(len(inputs)),
        output_names=[OUTPUT_NAME],
        external_data=True,
        verbose=False,
    )


def key_parts(workload: Workload, dtype: str, inputs: tuple[torch.Tensor, ...]) -> dict[str, Any]:
    """Everything the exported file depends on."""
    return {
        "format": CACHE_FORMAT,
        "workload": workload.describe(),
        "seed": workload.seed,
        "source_sha256": source_digest(workload),
        "model_files": model_files(workload),
        "dtype": dtype,
        "input_shapes": [list(t.shape) for t in inputs],
        "input_dtypes": [str(t.dtype) for t in inputs],
        "opset": OPSET,
        "versions": {p: package_version(p) for p in EXPORT_PACKAGES},
        "hwbench": hwbench.__version__,
    }


def source_digest(workload: Workload) -> str:
    """sha256 of the source of the workload's module: an edited model is a new export."""
    module = sys.modules[type(workload).__module__]
    return hashlib.sha256(inspect.getsource(module).encode()).hexdigest()


def model_files(workload: Workload) -> list[tuple[str, int, int]]:
    """(name, bytes, mtime_ns) of the files of a workload read from a directory (`--model`)."""
    if not isinstance(workload, UserModel) or not Path(workload.path).is_dir():
        return []
    path = workload.path
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    return [(str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
