"""PyTorch eager mode under `torch.inference_mode`; the target options `kernels`, `quant` and
`layout` transform the model first (hwbench.engines.transforms)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from hwbench.backends.base import Device
from hwbench.engines.base import Engine, Inputs, Session, Spec
from hwbench.engines.transforms import ModelOptions
from hwbench.llm.generation import Generator, TorchGenerator


class EagerSession(Session):
    def __init__(
        self, model: torch.nn.Module, device: Device, dtype: str, precision: str | None = None
    ) -> None:
        super().__init__(device, dtype)
        self.model = model
        self.precision = precision or dtype  # the parity tolerance key

    def run(self, placed: tuple[torch.Tensor, ...]) -> Any:
        with torch.inference_mode():
            return self.model(*placed)

    def details(self) -> dict[str, Any]:
        return {"precision": self.precision}


class TorchEager(Engine):
    name = "torch"
    provides: ClassVar[tuple[str, ...]] = ("session", "generator")
    options: ClassVar[tuple[str, ...]] = ModelOptions.OPTIONS

    @classmethod
    def check_options(cls, options: dict[str, str], device: str) -> None:
        """Raise UsageError, naming the valid values, for a bad option value."""
        ModelOptions.parse(options, device)

    def prepare(self, spec: Spec, example_inputs: Inputs | None = None) -> Session:
        settings = ModelOptions.parse(spec.options, spec.device.name)
        model = settings.build(spec.workload, spec.device, spec.dtype)
        return EagerSession(model, spec.device, spec.dtype, settings.precision)

    def prepare_generator(self, spec: Spec, batch: int, max_len: int) -> Generator:
        settings = ModelOptions.parse(spec.options, spec.device.name)
        model = settings.build(spec.workload, spec.device, spec.dtype)
        return TorchGenerator(model, spec.device, batch, max_len, precision=settings.precision)
