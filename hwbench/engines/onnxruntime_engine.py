"""ONNX Runtime: the workload exported to ONNX (cached), run by the device's execution provider.

The .onnx file has static shapes, so it is made for the case's input shapes. With
`example_inputs` given to `prepare`, export (or the cache look-up) and session creation happen
there and count in prepare_s; without them they happen in the first `run` and count in
first_run_s. `details()` says which, with the export seconds and whether the cache was hit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import torch

from hwbench.backends.base import Device
from hwbench.engines.base import Engine, Inputs, Session, Spec, cast_inputs
from hwbench.engines.onnx_export import OPSET, OUTPUT_NAME, exported, input_names
from hwbench.engines.ort_settings import PROVIDERS, OrtSettings, Provider
from hwbench.workloads.base import Workload

PACKAGES = ("onnxruntime", "onnx", "onnxscript")  # runtime, and what torch.onnx.export needs
BF16_REASON = (
    "onnxruntime takes numpy arrays here and numpy has no bfloat16; CPUExecutionProvider "
    "has no bfloat16 Gemm or Mul kernels either (NOT_IMPLEMENTED, onnxruntime 1.32)"
)


def onnxruntime() -> ModuleType:
    """The onnxruntime module, imported on first use (it is an optional dependency)."""
    return import_module("onnxruntime")


@dataclass
class Placed:
    """One step's inputs: on the host for session.run, and bound on the device for IOBinding."""

    example: tuple[torch.Tensor, ...]  # cast, on the CPU: what an export traces
    arrays: dict[str, np.ndarray]  # by ONNX input name
    values: dict[str, Any] = field(default_factory=dict)  # OrtValues on the device
    binding: Any = None  # onnxruntime.IOBinding, made on the first run


class OrtSession(Session):
    def __init__(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        settings: OrtSettings,
        provider: Provider,
    ) -> None:
        super().__init__(device, dtype)
        self.workload, self.settings = workload, settings
        self.provider = provider
        self.device_id = device.torch_device().index or 0
        self.io_binding = settings.uses_io_binding(provider)
        self.ort: Any = None  # onnxruntime.InferenceSession, once opened
        self.facts: dict[str, Any] = {}

    def open(self, inputs: tuple[torch.Tensor, ...], when: str) -> None:
        """Export (or find in the cache) the model for these input shapes and load it."""
        path, entry = exported(self.workload, self.dtype, inputs)
        start = time.perf_counter()
        self.ort = self.settings.inference_session(path, self.provider, self.device_id)
        self.facts = {
            "onnx_path": str(path),
            "cache": entry.status,
            "export_s": entry.build_s,
            "session_load_s": time.perf_counter() - start,
            "opened_in": when,
        }

    def place(self, inputs: tuple[torch.Tensor, ...]) -> Placed:
        example = cast_inputs(inputs, torch.device("cpu"), self.dtype)
        arrays = dict(zip(input_names(len(example)), (t.numpy() for t in example), strict=True))
        if not self.io_binding:
            return Placed(example, arrays)
        on_device = onnxruntime().OrtValue.ortvalue_from_numpy
        where = (self.provider.ort_device, self.device_id)
        return Placed(example, arrays, {n: on_device(a, *where) for n, a in arrays.items()})

    def run(self, placed: Placed) -> Any:
        if self.ort is None:
            self.open(placed.example, "first_run")
        if not self.io_binding:
            return self.ort.run([OUTPUT_NAME], placed.arrays)[0]
        if placed.binding is None:
            placed.binding = self.bind(placed.values)
        self.ort.run_with_iobinding(placed.binding)
        return placed.binding

    def bind(self, values: dict[str, Any]) -> Any:
        """Inputs bound where they are; the output allocated on the device by onnxruntime."""
        binding = self.ort.io_binding()
        for name, value in values.items():
            binding.bind_ortvalue_input(name, value)
        binding.bind_output(OUTPUT_NAME, self.provider.ort_device, self.device_id)
        return binding

    def to_cpu(self, outputs: Any) -> torch.Tensor:
        array = outputs if isinstance(outputs, np.ndarray) else outputs.copy_outputs_to_cpu()[0]
        return torch.from_numpy(array).float()

    def details(self) -> dict[str, Any]:
        facts = {**self.facts, "opset": OPSET, "io_binding": self.io_binding}
        facts |= {"opt_level": self.settings.opt_level}
        if self.ort is not None:
            facts["providers"] = self.ort.get_providers()
            facts["provider_options"] = self.ort.get_provider_options()
            facts["intra_op_threads"] = self.ort.get_session_options().intra_op_num_threads
        return facts


class OnnxRuntime(Engine):
    name = "onnxruntime"
    options: ClassVar[tuple[str, ...]] = OrtSettings.OPTIONS

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        """Raise UsageError, naming the valid values, for a bad option value."""
        OrtSettings.parse(options)

    def supports(self, workload: Workload, device: Device, dtype: str) -> tuple[bool, str]:
        provider = PROVIDERS.get(device.name)
        if provider is None:
            return (False, f"onnxruntime has no execution provider here for device {device.name}")
        missing = [name for name in PACKAGES if find_spec(name) is None]
        if missing:
            return (False, f"not installed: {', '.join(missing)} (pip install 'hwbench[onnx]')")
        available = onnxruntime().get_available_providers()
        if provider.name not in available:
            return (False, provider.missing_reason(available))
        if dtype == "bf16":
            return (False, BF16_REASON)
        return device.supports_dtype(dtype)

    def prepare(self, spec: Spec, example_inputs: Inputs | None = None) -> Session:
        settings = OrtSettings.parse(spec.options)
        session = OrtSession(
            spec.workload, spec.device, spec.dtype, settings, PROVIDERS[spec.device.name]
        )
        if example_inputs is not None:
            session.open(example_inputs, "prepare")
        return session
