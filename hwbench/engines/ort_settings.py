"""ONNX Runtime's target options and the execution provider each device name maps to.

Provider options from onnxruntime's docs: CUDA (execution-providers/CUDA-ExecutionProvider:
`device_id`, `user_compute_stream`) and CANN (execution-providers/community-maintained/
CANN-ExecutionProvider: `device_id`, `precision_mode`, `enable_cann_graph`, ...). CANN's
default precision_mode, force_fp16, runs float32 models in float16 (the CANN provider's page,
`precision_mode`), so hwbench
asks for must_keep_origin_dtype: the case's dtype is the dtype computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar

import torch

from hwbench.errors import UsageError, unknown_choice

# opt_level -> onnxruntime.GraphOptimizationLevel member
OPT_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
IO_BINDING = {"auto": None, "true": True, "false": False}


def cuda_stream() -> dict[str, str]:
    """Run on torch's current CUDA stream, so the device's CUDA events bracket the kernels."""
    return {"user_compute_stream": str(torch.cuda.current_stream().cuda_stream)}


@dataclass(frozen=True)
class Provider:
    """An execution provider: its name, its OrtValue device type, the package that ships it."""

    name: str
    ort_device: str  # device_type for OrtValue and IOBinding: "cpu", "cuda", "cann"
    package: str
    defaults: tuple[tuple[str, str], ...] = ()
    at_load: Callable[[], dict[str, str]] | None = None  # options known only at load time

    def options(self, device_id: int, overrides: dict[str, str]) -> dict[str, str]:
        """Provider options: hwbench's defaults, then what is only known now, then the user's."""
        if self.ort_device == "cpu":
            return dict(overrides)
        extra = self.at_load() if self.at_load else {}
        return {"device_id": str(device_id), **dict(self.defaults), **extra, **overrides}

    def missing_reason(self, available: list[str]) -> str:
        have = ", ".join(available) or "none"
        return f"{self.name} is not in this onnxruntime (it has {have}); install {self.package}"


PROVIDERS = {
    "cpu": Provider("CPUExecutionProvider", "cpu", "onnxruntime"),
    "cuda": Provider("CUDAExecutionProvider", "cuda", "onnxruntime-gpu", at_load=cuda_stream),
    "npu": Provider(
        "CANNExecutionProvider",
        "cann",
        "onnxruntime-cann",
        defaults=(("precision_mode", "must_keep_origin_dtype"),),
    ),
}


@dataclass(frozen=True)
class OrtSettings:
    """The onnxruntime target options, e.g. `onnxruntime@npu:opt_level=basic,io_binding=true,
    provider_options=enable_cann_graph=1;precision_mode=force_fp16` (';' between pairs)."""

    OPTIONS: ClassVar[tuple[str, ...]] = (
        "opt_level",
        "intra_op_threads",
        "provider_options",
        "io_binding",
    )
    opt_level: str = "all"
    intra_op_threads: int = 0  # 0: onnxruntime's default, one thread per physical core
    provider_options: tuple[tuple[str, str], ...] = ()
    io_binding: bool | None = None  # None: on for device providers, off on the CPU

    @classmethod
    def parse(cls, options: dict[str, str]) -> OrtSettings:
        """Settings from target options; a bad value is a UsageError naming the valid ones."""
        level = options.get("opt_level", "all")
        if level not in OPT_LEVELS:
            raise unknown_choice("opt_level for engine onnxruntime", level, list(OPT_LEVELS))
        binding = options.get("io_binding", "auto")
        if binding not in IO_BINDING:
            raise unknown_choice("io_binding for engine onnxruntime", binding, list(IO_BINDING))
        return cls(
            opt_level=level,
            intra_op_threads=parse_threads(options.get("intra_op_threads", "0")),
            provider_options=parse_pairs(options.get("provider_options", "")),
            io_binding=IO_BINDING[binding],
        )

    def uses_io_binding(self, provider: Provider) -> bool:
        return provider.ort_device != "cpu" if self.io_binding is None else self.io_binding

    def inference_session(self, path: Path, provider: Provider, device_id: int) -> Any:
        """An onnxruntime.InferenceSession on `provider`; an error if onnxruntime dropped it."""
        ort = import_module("onnxruntime")
        options = ort.SessionOptions()
        options.graph_optimization_level = getattr(
            ort.GraphOptimizationLevel, OPT_LEVELS[self.opt_level]
        )
        options.intra_op_num_threads = self.intra_op_threads
        wanted = (provider.name, provider.options(device_id, dict(self.provider_options)))
        session = ort.InferenceSession(str(path), options, providers=[wanted])
        if provider.name not in session.get_providers():
            raise RuntimeError(
                f"onnxruntime did not enable {provider.name}; the session runs on "
                f"{session.get_providers()} (see onnxruntime's log above)"
            )
        return session


def parse_threads(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"intra_op_threads for engine onnxruntime: {text!r} is not an int >= 0")
    return int(text)


def parse_pairs(text: str) -> tuple[tuple[str, str], ...]:
    """`k=v;k=v` -> ((k, v), ...) in the given order."""
    pairs = []
    for item in filter(None, text.split(";")):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise UsageError(f"provider_options for engine onnxruntime: {item!r} is not key=value")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)
