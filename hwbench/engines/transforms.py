"""What a rung does to the model before an engine runs it: the target options `kernels`
(hwbench.workloads.kernel_sets), `quant` and `layout`, shared by the torch engines.

- quant=int8: torch.ao.quantization.quantize_dynamic on every nn.Linear but the MoE routers,
  int8 weights per channel, activations quantized per step, float32 in and out (CPU:
  fbgemm / onednn; pytorch.org/docs/stable/quantization.html, dynamic quantization: still
  works in torch 2.13, tests/unit/test_ladder.py runs it; deprecated since torch 2.10, so
  checked first: hwbench.torch_features.ao_dynamic_quantization).
- quant=w8a8: each nn.Linear but the routers as int8 weights (per output channel) times int8
  activations (per token): torch._int_mm on CPU and CUDA (kernels/quant_matmul.py
  `w8a8_int_mm`), torch_npu.npu_dynamic_quant + npu_quant_matmul on Ascend
  (`npu_dynamic_quant_matmul`).
- layout=nz: every nn.Linear weight cast to Ascend's FRACTAL_NZ format,
  `torch_npu.npu_format_cast(weight, 29)`, with `torch.npu.config.allow_internal_format`
  (Ascend/pytorch docs, torch_npu.npu_format_cast; ACL_FORMAT_FRACTAL_NZ is format 29).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib import import_module
from typing import ClassVar

import torch
from torch import nn

from hwbench.backends.base import DTYPES, Device
from hwbench.errors import UsageError, unknown_choice
from hwbench.kernels.quant_matmul import npu_w8a8, quantize_rows, w8a8_int_mm
from hwbench.torch_features import ao_dynamic_quantization, require
from hwbench.workloads.base import Workload
from hwbench.workloads.kernel_sets import KERNEL_SETS

QUANT_DEVICES = {"none": None, "int8": ("cpu",), "w8a8": ("cpu", "cuda", "npu")}
LAYOUT_DEVICES = {"nd": None, "nz": ("npu",)}
FRACTAL_NZ = 29  # torch_npu's ACL format id


class W8A8Linear(nn.Module):
    """y = x W^T with W int8 per output channel and x quantized per token at run time."""

    def __init__(self, linear: nn.Linear, device: str) -> None:
        super().__init__()
        w_q, scale = quantize_rows(linear.weight.detach())
        self.npu = device == "npu"
        # (N, K) for npu_quant_matmul's x2 transposed view; (K, N) for torch._int_mm
        self.register_buffer("w_q", w_q if self.npu else w_q.T.contiguous())
        self.register_buffer("scale", scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, x.shape[-1])
        fn = npu_w8a8 if self.npu else w8a8_int_mm
        return fn(rows, self.w_q, self.scale).view(*x.shape[:-1], -1)


def linears(model: nn.Module) -> list[tuple[nn.Module, str, nn.Linear]]:
    """(parent, attribute, Linear) for each nn.Linear but MoE routers (named `gate`):
    routing stays in float, as in vllm-ascend's and DeepSeek's quantized checkpoints."""
    return [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if isinstance(child, nn.Linear) and name != "gate"
    ]


def quantize_int8(model: nn.Module) -> nn.Module:
    require(ao_dynamic_quantization())
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    names = {n for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    spec = {n: per_channel_dynamic_qconfig for n in names if not n.endswith(".gate")}
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, spec, dtype=torch.qint8)


def quantize_w8a8(model: nn.Module, device: str) -> nn.Module:
    for parent, name, linear in linears(model):
        setattr(parent, name, W8A8Linear(linear, device))
    return model


def cast_nz(model: nn.Module) -> nn.Module:
    torch_npu = import_module("torch_npu")
    torch.npu.config.allow_internal_format = True
    for _, _, linear in linears(model):
        linear.weight.data = torch_npu.npu_format_cast(linear.weight.data, FRACTAL_NZ)
    return model


@dataclass(frozen=True)
class ModelOptions:
    """The target options `kernels=`, `quant=` and `layout=` of the torch engines."""

    OPTIONS: ClassVar[tuple[str, ...]] = ("kernels", "quant", "layout")
    kernels: str = "reference"
    quant: str = "none"
    layout: str = "nd"

    @classmethod
    def parse(cls, options: dict[str, str], device: str) -> ModelOptions:
        """The options for `device`; a bad value is a UsageError naming the valid ones."""
        parsed = cls(**{k: v for k, v in options.items() if k in cls.OPTIONS})
        if parsed.kernels not in KERNEL_SETS:
            raise unknown_choice("kernels", parsed.kernels, KERNEL_SETS)
        check(parsed.quant, "quant", QUANT_DEVICES, device)
        check(parsed.layout, "layout", LAYOUT_DEVICES, device)
        return parsed

    @property
    def precision(self) -> str | None:
        """The parity tolerance key when the model computes below its dtype."""
        return None if self.quant == "none" else "int8"

    def build(self, workload: Workload, device: Device, dtype: str) -> nn.Module:
        """The workload's model on `device` in `dtype`, transformed as these options say."""
        if self.quant == "int8" and dtype != "fp32":
            raise UsageError("quant=int8 (torch.ao dynamic) takes float32 activations: dtype=fp32")
        model = workload.build_with(self.kernels, device.name)
        model = model.to(device=device.torch_device(), dtype=DTYPES[dtype])
        if self.quant == "int8":
            model = quantize_int8(model)
        elif self.quant == "w8a8":
            model = quantize_w8a8(model, device.name)
        return cast_nz(model) if self.layout == "nz" else model


def check(value: str, option: str, table: dict[str, tuple[str, ...] | None], device: str) -> None:
    if value not in table:
        raise unknown_choice(option, value, list(table))
    devices = table[value]
    if devices is not None and device not in devices:
        raise UsageError(f"{option}={value} runs on {', '.join(devices)}, not on {device}")
