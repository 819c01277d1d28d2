"""A stack of Linear + GELU layers alternating up and down projections: GEMM-bound."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from hwbench.workloads.base import Workload, generator


@dataclass(frozen=True)
class MLPConfig:
    in_features: int
    hidden: int
    layers: int  # even, so the output has in_features again

    def shapes(self) -> list[tuple[int, int]]:
        """(in, out) of each Linear: in->hidden, hidden->in, ... as in a transformer FFN."""
        pair = [(self.in_features, self.hidden), (self.hidden, self.in_features)]
        return [pair[i % 2] for i in range(self.layers)]


class MLPModel(nn.Sequential):
    """Linear + GELU for each shape of `config`."""

    def __init__(self, config: MLPConfig) -> None:
        layers: list[nn.Module] = []
        for fan_in, fan_out in config.shapes():
            layers += [nn.Linear(fan_in, fan_out), nn.GELU()]
        super().__init__(*layers)


class MLP(Workload):
    name = "mlp"
    family = "mlp"
    configs: ClassVar[dict[str, Any]] = {
        "tiny": MLPConfig(in_features=256, hidden=1024, layers=4),
        "small": MLPConfig(in_features=1024, hidden=4096, layers=4),
        "full": MLPConfig(in_features=4096, hidden=16384, layers=4),
    }
    default_batches: ClassVar[dict[str, tuple[int, ...]]] = {
        "tiny": (1, 8, 32),
        "small": (1, 32, 256),
        "full": (1, 256, 2048),
    }

    def build(self) -> nn.Module:
        model = MLPModel(self.config)
        gen = generator(self.seed)
        with torch.no_grad():
            for layer in model:
                if isinstance(layer, nn.Linear):
                    # He init: keeps the second moment O(1) through GELU
                    std = math.sqrt(2.0 / layer.in_features)
                    layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * std)
                    layer.bias.copy_(torch.randn(layer.bias.shape, generator=gen) * 0.1)
        return model.eval()

    def inputs(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        return (torch.randn(batch, self.config.in_features, generator=generator(seed)),)

    def flops(self, batch: int) -> int:
        """2 * batch * in * out for each Linear; bias adds and GELU are not counted."""
        return sum(2 * batch * fan_in * fan_out for fan_in, fan_out in self.config.shapes())

    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        """Weights and biases once, the (batch, in) input and the (batch, out) output."""
        params = sum(fan_in * fan_out + fan_out for fan_in, fan_out in self.config.shapes())
        out_features = self.config.shapes()[-1][1]
        return (params + batch * self.config.in_features + batch * out_features) * dtype_bytes
