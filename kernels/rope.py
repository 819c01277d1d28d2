"""Rotary embedding, Hugging Face's rotate_half convention: x * cos + rotate_half(x) * sin."""

from __future__ import annotations

import torch

from hwbench.kernels.base import (
    INDUCTOR_DEVICES,
    Compiled,
    Dims,
    Tensor,
    Variant,
    elementwise_kernel,
    inductor,
    npu_variant,
    randn,
)


def make(d: Dims, dtype: torch.dtype, gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    x = randn((d["B"], d["H"], d["T"], d["D"]), dtype, gen)  # (B, heads, T, head_dim)
    inv_freq = 1.0 / 10000 ** (torch.arange(0, d["D"], 2).float() / d["D"])
    angles = torch.outer(torch.arange(d["T"]).float(), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)  # (T, head_dim)
    return (x, angles.cos().to(dtype), angles.sin().to(dtype))


def reference(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    h = x.float()
    x1, x2 = h.chunk(2, dim=-1)
    return h * cos.float() + torch.cat((-x2, x1), dim=-1) * sin.float()


def counts(d: Dims, itemsize: int) -> tuple[float, float]:
    """Per element: x * cos, rotated * sin, add = 3 FLOP; read x, cos, sin, write y."""
    n = d["B"] * d["H"] * d["T"] * d["D"]
    return (3 * n, (2 * n + 2 * d["T"] * d["D"]) * itemsize)


def no_cat(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """The same sum without building rotate_half(x): each half written in place."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    out = x * cos
    out[..., :half].addcmul_(x2, sin[..., :half], value=-1)
    out[..., half:].addcmul_(x1, sin[..., half:])
    return out


def halves(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Each output half from the input halves, reading the first half of the tables only:
    HF's tables repeat the angles (cos[:D/2] == cos[D/2:]); validation checks it holds."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[..., :half], sin[..., :half]
    return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)


def npu_rotary_mul(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    import torch_npu

    return torch_npu.npu_rotary_mul(x, cos[None, None], sin[None, None])  # r1, r2 4-D


KERNELS = (
    elementwise_kernel(
        "rope",
        __doc__.splitlines()[0],
        {
            "small": {"B": 1, "H": 4, "T": 16, "D": 32},
            "large": {"B": 4, "H": 32, "T": 1024, "D": 128},  # 64 MiB fp32
        },
        (make, reference, counts),
        Variant("no_cat", no_cat, note="halves updated in place with addcmul_"),
        Variant(
            "compiled_halves",
            Compiled(halves),
            devices=INDUCTOR_DEVICES,
            requires=inductor,
            note="torch.compile of `halves`: no rotate_half index arithmetic, vectorizes",
        ),
        npu_variant(
            "npu_rotary_mul",
            npu_rotary_mul,
            "torch_npu.npu_rotary_mul(input, r1, r2, rotary_mode='half'); Ascend/op-plugin "
            "docs/zh/custom_APIs/torch_npu/torch_npu-npu_rotary_mul.md",
        ),
        eager_note="the reference math (torch.cat)",
    ),
)
