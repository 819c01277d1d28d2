"""PyTorch eager mode under `torch.inference_mode`."""

from __future__ import annotations

from typing import Any

import torch

from hwbench.backends.base import DTYPES, Device
from hwbench.engines.base import Engine, Session, cast_inputs
from hwbench.workloads.base import Workload


class EagerSession(Session):
    def __init__(self, model: torch.nn.Module, device: Device, dtype: str) -> None:
        super().__init__(device)
        self.model = model
        self.dtype = dtype

    def place(self, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        return cast_inputs(inputs, self.device.torch_device(), self.dtype)

    def run(self, placed: tuple[torch.Tensor, ...]) -> Any:
        with torch.inference_mode():
            return self.model(*placed)

    def to_cpu(self, outputs: Any) -> torch.Tensor:
        return outputs.detach().to("cpu", torch.float32)


class TorchEager(Engine):
    name = "torch"

    def prepare(
        self,
        workload: Workload,
        device: Device,
        dtype: str,
        options: dict[str, str],
        *,
        example_inputs: tuple[torch.Tensor, ...] | None = None,
    ) -> Session:
        model = workload.build().to(device=device.torch_device(), dtype=DTYPES[dtype])
        return EagerSession(model, device, dtype)
