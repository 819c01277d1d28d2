"""Feature checks for the torch APIs that not every supported torch has.

hwbench takes any torch from 2.6 on (pyproject.toml), so that installing it keeps the torch a
box already has: an Ascend box's torch_npu and CANN are built for one torch line. What a torch
lacks is found by looking for the feature itself (a module on disk, an importable name, an
attribute), never by comparing version strings: vendor builds carry their own suffixes, and
features move.

The APIs used without a check (F.rms_norm, SDPA's enable_gqa, torch._int_mm on the CPU,
torch.onnx.export's dynamo=True, torch.compiler.cudagraph_mark_step_begin) were run in torch
2.6.0 and 2.13.0 and read in 2.15.0's sources; tests/unit/test_torch_features.py asserts them
on whichever torch runs the tests (CI: 2.13 and 2.6).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path

import torch


def has_module(name: str) -> bool:
    """Whether module `name` exists, found on disk without importing it or its parents
    (importlib's find_spec imports the parent packages: torch._inductor alone takes seconds)."""
    top, *rest = name.split(".")
    spec = find_spec(top)
    if spec is None or not rest:
        return spec is not None
    for location in spec.submodule_search_locations or ():
        path = Path(location, *rest)
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
    return False


def present(modules: Iterable[str]) -> tuple[str, ...]:
    """The modules among `modules` that exist here, in their order."""
    return tuple(m for m in modules if has_module(m))


def ao_dynamic_quantization() -> tuple[bool, str]:
    """Whether torch.ao's eager dynamic int8 quantization is here (quantize_dynamic, the
    dynamic Linear): in torch 2.6 to 2.15, deprecated since 2.10 with its removal announced
    (torch/ao/quantization/quantize.py: "torch.ao.quantization is deprecated and will be
    removed")."""
    try:
        from torch.ao.nn.quantized.dynamic import Linear  # noqa: F401
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic  # noqa: F401
    except ImportError as error:
        why = f"torch {torch.__version__} has no torch.ao dynamic int8 quantization ({error})"
        return (False, f"{why}; quant=w8a8 needs only torch._int_mm")
    return (True, "")


def compiles_transformers_models() -> tuple[bool, str]:
    """Whether torch.compile can trace transformers' models here: their forward calls
    torch.compiler.is_exporting() (new in torch 2.7), and torch 2.6's dynamo fails on the missing
    attribute (InternalTorchDynamoError, seen with transformers 5.24: Llama and BERT alike)."""
    if hasattr(torch.compiler, "is_exporting"):
        return (True, "")
    why = f"transformers' models call torch.compiler.is_exporting, which torch {torch.__version__}"
    return (False, f"{why} lacks: torch.compile fails inside them")


class MissingFeature(RuntimeError):
    """A case needs a torch feature this torch lacks; the message names it."""


def require(check: tuple[bool, str]) -> None:
    """Raise MissingFeature with the check's reason when it failed."""
    ok, why = check
    if not ok:
        raise MissingFeature(why)
