"""SwiGLU: silu(gate) * up, with gate and up the two halves of one (T, 2I) projection."""

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


def make(d: Dims, dtype: torch.dtype, gen: torch.Generator) -> tuple[Tensor]:
    return (randn((d["T"], 2 * d["I"]), dtype, gen),)  # (tokens, [gate | up])


def reference(x: Tensor) -> Tensor:
    gate, up = x.float().chunk(2, dim=-1)
    return gate * torch.sigmoid(gate) * up  # (T, I)


def counts(d: Dims, itemsize: int) -> tuple[float, float]:
    """Per output element: silu as exp, add, divide, multiply, then * up = 5 FLOP (a
    convention: the exp counts as one); read (T, 2I), write (T, I)."""
    t, i = d["T"], d["I"]
    return (5 * t * i, 3 * t * i * itemsize)


def fused(x: Tensor) -> Tensor:
    gate, up = x.chunk(2, dim=-1)
    return F.silu(gate) * up


def npu_swiglu(x: Tensor) -> Tensor:
    import torch_npu

    return torch_npu.npu_swiglu(x, dim=-1)  # silu(first half) * second half


KERNELS = (
    elementwise_kernel(
        "swiglu",
        __doc__.splitlines()[0],
        {"small": {"T": 64, "I": 256}, "large": {"T": 2048, "I": 4096}},  # 96 MiB fp32
        (make, reference, counts),
        Variant("silu_mul", fused, note="F.silu(gate) * up, two kernels"),
        npu_variant(
            "npu_swiglu",
            npu_swiglu,
            "torch_npu.npu_swiglu(x, dim=-1): silu(a) * b for a, b = x.chunk(2, dim); "
            "Ascend/op-plugin docs/zh/custom_APIs/torch_npu/torch_npu-npu_swiglu.md",
        ),
    ),
)
