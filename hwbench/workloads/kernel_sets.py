"""Kernel sets: the table of operators a decoder calls, swapped whole for a device's variants.

`reference` is the model's own math (what the float32 parity reference runs); `sdpa` swaps
attention only, for SDPA with native grouped-query heads (no repeated kv copies, so the flash
and memory-efficient backends take it); `fused` takes every operator from the validated
variants of hwbench.kernels for the device: plain-torch fused ops on CPU and CUDA, torch_npu's
fused operators on Ascend (written from their docs, cited in kernels/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from hwbench.errors import unknown_choice
from hwbench.kernels.moe import loop as moe_loop
from hwbench.kernels.registry import lookup

Tensor = torch.Tensor
KERNEL_SETS = ("reference", "sdpa", "fused")


@dataclass(frozen=True)
class Ops:
    """One kernel set; every function keeps its input dtype."""

    name: str
    rms_norm: Callable[[Tensor, Tensor, float], Tensor]  # (x (..., H), weight (H,), eps)
    rotate: Callable[[Tensor, Tensor, Tensor], Tensor]  # x (B, heads, T, D), cos, sin (T, D)
    swiglu: Callable[[Tensor, Tensor], Tensor]  # silu(gate) * up
    attend: Callable[[Tensor, Tensor, Tensor, Tensor | None], Tensor]  # q, k, v, mask (T, L)
    moe: Callable[..., Tensor]  # (x (N, H), router, w_gu, w_down, s_gu, s_down, k) -> (N, H)


def rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotary embedding with HF's rotate_half convention."""
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def swiglu(gate: Tensor, up: Tensor) -> Tensor:
    return F.silu(gate) * up


def repeat_attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
    """HF's repeat_kv (query head h reads kv head h // groups), then SDPA; causal without mask.
    q (B, H, T, D), k and v (B, KV, L, D), mask (T, L) True where a key is visible."""
    groups = q.shape[1] // k.shape[1]
    k, v = (t.repeat_interleave(groups, 1).to(q.dtype) for t in (k, v))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)


def gqa_attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
    """SDPA reading the kv heads in place (enable_gqa)."""
    k, v = k.to(q.dtype), v.to(q.dtype)
    causal = mask is None
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=causal, enable_gqa=True
    )


def variant(kernel: str, name: str) -> Callable[..., Tensor]:
    """The function of a validated variant of hwbench.kernels."""
    return next(v.fn for v in lookup(kernel).variants if v.name == name)


def npu_swiglu(gate: Tensor, up: Tensor) -> Tensor:
    """torch_npu.npu_swiglu takes [gate | up] as one tensor."""
    return variant("swiglu", "npu_swiglu")(torch.cat((gate, up), dim=-1))


def npu_attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
    """npu_fused_infer_attention_score for causal prefill; a masked (cached) step keeps SDPA:
    the kernel's decode form attends to every cache slot, filled or not."""
    if mask is not None:
        return gqa_attend(q, k, v, mask)
    k, v = k.to(q.dtype), v.to(q.dtype)
    return variant("attention_prefill", "npu_fused_infer_attention")(q, k, v)


REFERENCE = Ops("reference", rms_norm, rotate, swiglu, repeat_attend, moe_loop)
SDPA = replace(REFERENCE, name="sdpa", attend=gqa_attend)


def fused(device: str) -> Ops:
    """The fused set for `device`: torch_npu operators on npu, plain torch elsewhere."""
    if device == "npu":
        npu_ops = (variant("rmsnorm", "npu_rms_norm"), variant("rope", "npu_rotary_mul"))
        moe = variant("moe", "npu_moe_fused")
        return Ops("fused", *npu_ops, npu_swiglu, npu_attend, moe)
    norm, rope = variant("rmsnorm", "fused"), variant("rope", "no_cat")
    return Ops("fused", norm, rope, swiglu, gqa_attend, variant("moe", "sorted"))


def kernel_set(name: str, device: str) -> Ops:
    """The operator table called `name` for `device`; UsageError lists the valid names."""
    if name not in KERNEL_SETS:
        raise unknown_choice("kernel set", name, KERNEL_SETS)
    return {"reference": REFERENCE, "sdpa": SDPA}.get(name) or fused(device)
