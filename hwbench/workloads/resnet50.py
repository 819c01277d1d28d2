"""ResNet-50 (v1.5: stride in the 3x3 conv, as torchvision), at a chosen width and resolution."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from hwbench.workloads.base import Workload, generator

STAGES = (3, 4, 6, 3)  # bottleneck blocks per stage
EXPANSION = 4


@dataclass(frozen=True)
class ResNetConfig:
    width: int  # channels of the first stage's 3x3 convs (64 in ResNet-50)
    resolution: int  # input height = width, in pixels
    num_classes: int = 1000


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    conv = nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=False)
    return [conv, nn.BatchNorm2d(cout)]


class Bottleneck(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int) -> None:
        super().__init__()
        cout = planes * EXPANSION
        self.branch = nn.Sequential(
            *conv_bn(cin, planes, 1), nn.ReLU(),
            *conv_bn(planes, planes, 3, stride), nn.ReLU(),
            *conv_bn(planes, cout, 1),
        )  # fmt: skip
        needs_projection = stride != 1 or cin != cout
        self.shortcut = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if needs_projection else None
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.branch(x) + identity)


class ResNet(nn.Module):
    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        width = config.width
        self.stem = nn.Sequential(*conv_bn(3, width, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks: list[nn.Module] = []
        cin = width
        for stage, count in enumerate(STAGES):
            planes = width * 2**stage
            for i in range(count):
                blocks.append(Bottleneck(cin, planes, 2 if i == 0 and stage > 0 else 1))
                cin = planes * EXPANSION
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, config.num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.blocks(self.stem(images))  # (B, C, H/32, W/32)
        return self.fc(features.mean(dim=(2, 3)))  # (B, num_classes)


def _init(model: ResNet, seed: int) -> ResNet:
    """He-normal convs, BN in eval with unit running stats, last BN of each branch at 0.2 so
    the residual sum grows slowly; fc normal(0, 1/fan_in) so logits are O(1)."""
    gen = generator(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen))
                module.weight.mul_(math.sqrt(2.0 / fan_in))
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen))
                module.weight.mul_(1.0 / math.sqrt(module.in_features))
                module.bias.zero_()
        for block in model.blocks:
            block.branch[-1].weight.fill_(0.2)
    return model.eval()


class ResNet50(Workload):
    name = "resnet50"
    family = "vision"
    configs: ClassVar[dict[str, Any]] = {
        "tiny": ResNetConfig(width=16, resolution=64),
        "small": ResNetConfig(width=64, resolution=160),
        "full": ResNetConfig(width=64, resolution=224),
    }
    default_batches: ClassVar[dict[str, tuple[int, ...]]] = {
        "tiny": (1, 8, 32),
        "small": (1, 8, 32),
        "full": (1, 16, 64),
    }

    def build(self) -> nn.Module:
        return _init(ResNet(self.config), self.seed)

    def inputs(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        size = self.config.resolution
        return (torch.randn(batch, 3, size, size, generator=generator(seed)),)

    def flops(self, batch: int) -> int:
        """2 * MACs of every conv and the fc; BN, ReLU, pooling and residual adds not counted."""
        return batch * sum(2 * macs for macs in _layer_macs(self.config))

    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        """Parameters once (BN running stats not counted: foldable), input and logits."""
        size, config = self.config.resolution, self.config
        elements = _param_count(config) + batch * (3 * size * size + config.num_classes)
        return elements * dtype_bytes


def _out(size: int, kernel: int, stride: int) -> int:
    padding = kernel // 2
    return (size + 2 * padding - kernel) // stride + 1


def _layer_macs(config: ResNetConfig) -> list[int]:
    """Multiply-adds of each conv and the fc, for one image."""
    width, size = config.width, _out(config.resolution, 7, 2)
    macs = [3 * 49 * width * size * size]
    size, cin = _out(size, 3, 2), width  # maxpool
    for stage, count in enumerate(STAGES):
        planes = width * 2**stage
        for i in range(count):
            stride = 2 if i == 0 and stage > 0 else 1
            out = _out(size, 3, stride)
            macs += [cin * planes * size * size, planes * 9 * planes * out * out]
            macs += [planes * planes * EXPANSION * out * out]
            if stride != 1 or cin != planes * EXPANSION:
                macs.append(cin * planes * EXPANSION * out * out)
            size, cin = out, planes * EXPANSION
    return [*macs, cin * config.num_classes]


def _param_count(config: ResNetConfig) -> int:
    """Conv weights + BN scale and shift + fc weights and bias, counted on the meta device."""
    with torch.device("meta"):
        return sum(p.numel() for p in ResNet(config).parameters())
