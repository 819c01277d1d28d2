"""int8 matmul y = x @ (w_int8 * scale)^T with per-output-channel weight scales: weight-only
(dequantize, then a float GEMM) and W8A8 (activations quantized per token at run time)."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from hwbench.backends.base import Device
from hwbench.kernels.base import (
    INDUCTOR_DEVICES,
    Dims,
    Inputs,
    Kernel,
    Tensor,
    Variant,
    npu_variant,
    randn,
)
from hwbench.torch_features import ao_dynamic_quantization

QMAX = 127  # symmetric int8
NPU_DOCS = "Ascend/op-plugin docs/zh/custom_APIs/torch_npu/torch_npu-"


def quantize_rows(t: Tensor) -> tuple[Tensor, Tensor]:
    """Symmetric per-row int8: (values (R, C) int8, scales (R,) float32)."""
    scale = t.float().abs().amax(dim=-1).clamp_min(1e-8) / QMAX
    return (t.float() / scale[:, None]).round().clamp(-QMAX, QMAX).to(torch.int8), scale


def make(d: Dims, dtype: torch.dtype, gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    x = randn((d["M"], d["K"]), dtype, gen)  # (tokens, in_features)
    w_q, scale = quantize_rows(randn((d["N"], d["K"]), torch.float32, gen, std=d["K"] ** -0.5))
    return (x, w_q, scale)  # w_q (out_features, in_features) int8, scale (out_features,) fp32


def reference(x: Tensor, w_q: Tensor, scale: Tensor) -> Tensor:
    return x.float() @ (w_q.float() * scale[:, None]).T  # (M, N)


def counts(d: Dims, itemsize: int) -> tuple[float, float]:
    """2 M N K FLOP; read x and the int8 weights and scales, write y."""
    m, n, k = d["M"], d["N"], d["K"]
    return (2 * m * n * k, (m * k + m * n) * itemsize + n * k + 4 * n)


def weight_only(x: Tensor, w_q: Tensor, scale: Tensor) -> Tensor:
    return F.linear(x, w_q.to(x.dtype)) * scale.to(x.dtype)  # scales commute with the GEMM


def w8a8_int_mm(x: Tensor, w_t: Tensor, scale: Tensor) -> Tensor:
    """Dynamic per-token activation quantization, int8 x int8 -> int32 torch._int_mm."""
    x_q, x_scale = quantize_rows(x)
    acc = torch._int_mm(x_q, w_t)  # (M, N) int32
    return (acc.float() * x_scale[:, None] * scale).to(x.dtype)


def transpose_weight(inputs: Inputs) -> Inputs:
    x, w_q, scale = inputs
    return (x, w_q.T.contiguous(), scale)  # (K, N), as _int_mm takes it


def ao_module(inputs: Inputs) -> Inputs:
    """torch.ao's dynamic int8 Linear (fbgemm / onednn) holding the dequantized weights."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    x, w_q, scale = inputs
    linear = torch.nn.Linear(w_q.shape[1], w_q.shape[0], bias=False)
    linear.weight.data = w_q.float() * scale[:, None]
    linear.qconfig = per_channel_dynamic_qconfig
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return (DynamicLinear.from_float(linear), x)


def ao_dynamic(module: torch.nn.Module, x: Tensor) -> Tensor:
    return module(x.float()).to(x.dtype)


def has_ao(device: Device) -> tuple[bool, str]:
    """Whether this torch has torch.ao's dynamic quantization (deprecated since torch 2.10)."""
    return ao_dynamic_quantization()


def npu_weight_only(x: Tensor, w_q: Tensor, scale: Tensor) -> Tensor:
    import torch_npu

    return torch_npu.npu_weight_quant_batchmatmul(x, w_q.T, scale.to(x.dtype))  # weight (K, N)


def npu_w8a8(x: Tensor, w_q: Tensor, scale: Tensor) -> Tensor:
    import torch_npu

    x_q, x_scale = torch_npu.npu_dynamic_quant(x)  # per-token int8, (M,) float32 scales
    return torch_npu.npu_quant_matmul(
        x_q, w_q.T, scale, pertoken_scale=x_scale, output_dtype=x.dtype
    )


KERNELS = (
    Kernel(
        name="quant_matmul",
        doc="int8-weight matmul, per-channel scales (weight-only and W8A8)",
        shapes={
            "small": {"M": 32, "K": 256, "N": 128},
            "large": {"M": 32, "K": 4096, "N": 4096},  # 16 MiB of int8 weights
        },
        make=make,
        reference=reference,
        counts=counts,
        variants=(
            Variant("weight_only", weight_only, note="dequantize to x.dtype, F.linear, scale"),
            Variant(
                "w8a8_int_mm",
                w8a8_int_mm,
                devices=INDUCTOR_DEVICES,  # torch._int_mm: CPU and CUDA kernels
                prepare=transpose_weight,
                precision="int8",
                note="per-token int8 activations, torch._int_mm (int32 accumulate)",
            ),
            Variant(
                "ao_dynamic",
                ao_dynamic,
                devices=("cpu",),  # only torch's CPU backends implement it
                prepare=ao_module,
                requires=has_ao,
                precision="int8",
                note="torch.ao dynamic int8 Linear",
            ),
            npu_variant(
                "npu_weight_quant_bmm",
                npu_weight_only,
                f"torch_npu.npu_weight_quant_batchmatmul(x, weight, antiquant_scale); "
                f"{NPU_DOCS}npu_weight_quant_batchmatmul.md",
            ),
            npu_variant(
                "npu_dynamic_quant_matmul",
                npu_w8a8,
                f"torch_npu.npu_dynamic_quant(x) -> (int8, scale), torch_npu.npu_quant_matmul("
                f"x1, x2, scale, pertoken_scale=, output_dtype=); {NPU_DOCS}npu_quant_matmul.md",
                precision="int8",
            ),
        ),
    ),
)
