"""Grouped-query attention: causal prefill over T tokens, and decode of 1 token against a KV
cache; query head h reads kv head h // (H / KV), as HF's repeat_kv."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from hwbench.kernels.base import Dims, Kernel, Tensor, Variant, in_dtype, npu_variant, randn

FIA_DOC = (
    "torch_npu.npu_fused_infer_attention_score(query, key, value, *, atten_mask, num_heads, "
    "scale, input_layout, num_key_value_heads, sparse_mode, ...) -> (out, lse); Ascend/op-plugin "
    "docs/zh/custom_APIs/torch_npu/torch_npu-npu_fused_infer_attention_score.md"
)


def make(d: Dims, dtype: torch.dtype, gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    q = randn((d["B"], d["H"], d["Q"], d["D"]), dtype, gen)  # (B, H, queries, head_dim)
    k = randn((d["B"], d["KV"], d["L"], d["D"]), dtype, gen)  # (B, KV, keys, head_dim)
    v = randn((d["B"], d["KV"], d["L"], d["D"]), dtype, gen)
    return (q, k, v)


def reference(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Softmax(q k^T / sqrt(D)) v in float32; causal (last query at last key) when Q > 1."""
    groups = q.shape[1] // k.shape[1]
    k, v = (t.float().repeat_interleave(groups, dim=1) for t in (k, v))  # (B, H, L, D)
    scores = q.float() @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, H, Q, L)
    queries, keys = scores.shape[-2:]
    if queries > 1:
        allowed = torch.ones(queries, keys, dtype=torch.bool, device=q.device).tril(keys - queries)
        scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ v  # (B, H, Q, D)


def counts(d: Dims, itemsize: int) -> tuple[float, float]:
    """q k^T and p v: 2 x 2 FLOP per (query, visible key, head_dim); causal prefill sees
    L - Q + i + 1 keys at query i. Bytes: q, k, v read and the output written."""
    b, h, kv, q, length, dim = (d[n] for n in ("B", "H", "KV", "Q", "L", "D"))
    pairs = q * length if q == 1 else q * (length - q) + q * (q + 1) // 2
    return (4 * b * h * pairs * dim, (2 * b * h * q * dim + 2 * b * kv * length * dim) * itemsize)


def sdpa(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    causal = q.shape[-2] > 1
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)


def sdpa_repeat(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """What hwbench's llama does: repeat the kv heads, then SDPA."""
    groups = q.shape[1] // k.shape[1]
    k, v = (t.repeat_interleave(groups, dim=1) for t in (k, v))
    return F.scaled_dot_product_attention(q, k, v, is_causal=q.shape[-2] > 1)


def npu_fia(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Prefill: sparse_mode 3 (causal, bottom-right) takes a 2048 x 2048 upper-triangle mask."""
    import torch_npu

    mask = None
    if q.shape[-2] > 1:
        mask = torch.ones(2048, 2048, dtype=torch.bool, device=q.device).triu(1)
    out, _ = torch_npu.npu_fused_infer_attention_score(
        q, k, v,
        atten_mask=mask,
        num_heads=q.shape[1],
        num_key_value_heads=k.shape[1],
        scale=1 / math.sqrt(q.shape[-1]),
        input_layout="BNSD",
        sparse_mode=3 if mask is not None else 0,
    )  # fmt: skip
    return out


VARIANTS = (
    Variant("eager", in_dtype(reference), note="the reference math in the input dtype"),
    Variant("sdpa_gqa", sdpa, note="F.scaled_dot_product_attention(enable_gqa=True)"),
    Variant("sdpa_repeat", sdpa_repeat, note="repeat_interleave kv heads, then SDPA"),
    npu_variant("npu_fused_infer_attention", npu_fia, FIA_DOC),
)
KERNELS = (
    Kernel(
        name="attention_prefill",
        doc="causal GQA attention over a prompt of Q = L tokens",
        shapes={
            "small": {"B": 1, "H": 4, "KV": 2, "Q": 32, "L": 32, "D": 16},
            "large": {"B": 1, "H": 16, "KV": 4, "Q": 1024, "L": 1024, "D": 64},
        },
        make=make,
        reference=reference,
        counts=counts,
        variants=VARIANTS,
    ),
    Kernel(
        name="attention_decode",
        doc="one new token's GQA attention against a full KV cache of L tokens",
        shapes={
            "small": {"B": 2, "H": 4, "KV": 2, "Q": 1, "L": 64, "D": 16},
            "large": {"B": 4, "H": 32, "KV": 8, "Q": 1, "L": 2048, "D": 128},  # 64 MiB fp32 kv
        },
        make=make,
        reference=reference,
        counts=counts,
        variants=VARIANTS,
    ),
)
