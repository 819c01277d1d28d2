"""RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight over the last axis (Llama's norm)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hwbench.kernels.base import (
    Dims,
    Tensor,
    Variant,
    elementwise_kernel,
    npu_variant,
    randn,
)

EPS = 1e-5


def make(d: Dims, dtype: torch.dtype, gen: torch.Generator) -> tuple[Tensor, Tensor, float]:
    x = randn((d["T"], d["H"]), dtype, gen)  # (tokens, hidden)
    weight = (1 + randn((d["H"],), torch.float32, gen, std=0.1)).to(dtype)  # (hidden,)
    return (x, weight, EPS)


def reference(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    h = x.float()
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps) * weight.float()


def counts(d: Dims, itemsize: int) -> tuple[float, float]:
    """Per element: square, add (the mean), scale, weight = 4 FLOP; read x, write y, weight."""
    t, h = d["T"], d["H"]
    return (4 * t * h, (2 * t * h + h) * itemsize)


def fused(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    return F.rms_norm(x, (x.shape[-1],), weight, eps)


def npu_rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    import torch_npu

    return torch_npu.npu_rms_norm(x, weight, epsilon=eps)[0]  # -> (y, rstd)


KERNELS = (
    elementwise_kernel(
        "rmsnorm",
        __doc__.splitlines()[0],
        {"small": {"T": 64, "H": 256}, "large": {"T": 4096, "H": 4096}},  # 64 MiB fp32
        (make, reference, counts),
        Variant("fused", fused, note="torch.nn.functional.rms_norm"),
        npu_variant(
            "npu_rms_norm",
            npu_rms_norm,
            "torch_npu.npu_rms_norm(x, gamma, epsilon) -> (y, rstd); Ascend/op-plugin "
            "docs/zh/custom_APIs/torch_npu/torch_npu-npu_rms_norm.md",
        ),
    ),
)
