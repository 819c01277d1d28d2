"""DeepSeek-style mixture of experts: softmax top-k gating (router in float32), tokens
dispatched to their k routed experts' SwiGLU FFNs, combined with the gate weights, plus the
shared experts (one SwiGLU FFN of S = shared x I) that every token goes through."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hwbench.kernels.base import Dims, Inputs, Kernel, Tensor, Variant, npu_variant, randn

VLLM_ASCEND = "as vllm-ascend's fused_experts; Ascend/op-plugin docs/zh/custom_APIs/torch_npu/"


def make(d: Dims, dtype: torch.dtype, gen: torch.Generator) -> Inputs:
    t, h, i, e, s = d["T"], d["H"], d["I"], d["E"], d["S"]
    return (
        randn((t, h), dtype, gen),  # x (tokens, hidden)
        randn((e, h), dtype, gen, std=h**-0.5),  # router (experts, hidden)
        randn((e, 2 * i, h), dtype, gen, std=h**-0.5),  # [gate | up] per expert
        randn((e, h, i), dtype, gen, std=i**-0.5),  # down per expert
        randn((2 * s, h), dtype, gen, std=h**-0.5),  # shared [gate | up]
        randn((h, s), dtype, gen, std=s**-0.5),  # shared down
        d["k"],
    )


def ffn(x: Tensor, gate_up: Tensor, down: Tensor) -> Tensor:
    gate, up = F.linear(x, gate_up).chunk(2, dim=-1)
    return F.linear(F.silu(gate) * up, down)


def route(x: Tensor, router: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Top-k of the softmax over experts, not renormalized: (weights, expert ids), (T, k)."""
    return F.linear(x.float(), router.float()).softmax(dim=-1).topk(k, dim=-1)


def loop(
    x: Tensor, router: Tensor, w_gu: Tensor, w_down: Tensor, s_gu: Tensor, s_down: Tensor, k: int
) -> Tensor:
    """Per expert: gather its tokens, run its FFN, add the weighted result (eager MoE)."""
    weights, ids = route(x, router, k)
    out = ffn(x, s_gu, s_down)
    for e in range(w_gu.shape[0]):
        token, slot = (ids == e).nonzero(as_tuple=True)
        y = ffn(x[token], w_gu[e], w_down[e]) * weights[token, slot, None].to(x.dtype)
        out.index_add_(0, token, y)
    return out


def reference(
    x: Tensor, router: Tensor, w_gu: Tensor, w_down: Tensor, s_gu: Tensor, s_down: Tensor, k: int
) -> Tensor:
    args = (t.float() for t in (x, router, w_gu, w_down, s_gu, s_down))
    return loop(*args, k)


def counts(d: Dims, itemsize: int) -> tuple[float, float]:
    """Router 2TEH; each of T*k routed rows and T shared rows: 2 GEMMs, 6 H I FLOP per row
    (silu * up ignored). Bytes: x, y, router and every expert's weights (T*k >= E rows spread
    over all experts), shared weights."""
    t, h, i, e, s, k = (d[n] for n in ("T", "H", "I", "E", "S", "k"))
    flops = 2 * t * e * h + 6 * t * k * h * i + 6 * t * h * s
    return (flops, (2 * t * h + e * h + 3 * e * h * i + 3 * h * s) * itemsize)


def sorted_dispatch(
    x: Tensor, router: Tensor, w_gu: Tensor, w_down: Tensor, s_gu: Tensor, s_down: Tensor, k: int
) -> Tensor:
    """Sort the T*k (token, expert) rows by expert, run contiguous segments, scatter-add back
    (the init_routing / grouped matmul / finalize_routing dataflow)."""
    weights, ids = route(x, router, k)
    order = ids.flatten().argsort(stable=True)  # (T*k,) rows grouped by expert
    token = order // k
    rows = x[token]  # (T*k, H) dispatched
    sizes = torch.bincount(ids.flatten(), minlength=w_gu.shape[0]).tolist()
    outs = [ffn(seg, w_gu[e], w_down[e]) for e, seg in enumerate(rows.split(sizes)) if len(seg)]
    y = torch.cat(outs) * weights.flatten()[order, None].to(x.dtype)
    return ffn(x, s_gu, s_down).index_add_(0, token, y)


def dense(
    x: Tensor, router: Tensor, w_gu: Tensor, w_down: Tensor, s_gu: Tensor, s_down: Tensor, k: int
) -> Tensor:
    """Every expert on every token in two batched GEMMs, weighted by a (T, E) gate matrix
    that is zero off the top-k: E/k times the routed FLOP, no gather or scatter."""
    weights, ids = route(x, router, k)
    gates = torch.zeros(x.shape[0], w_gu.shape[0], device=x.device)
    gates = gates.scatter_(1, ids, weights).to(x.dtype)  # (T, E)
    gate, up = torch.einsum("th,eih->eti", x, w_gu).chunk(2, dim=-1)  # (E, T, I) each
    y = torch.einsum("eti,ehi->eth", F.silu(gate) * up, w_down)  # (E, T, H)
    return ffn(x, s_gu, s_down) + torch.einsum("eth,te->th", y, gates)


def npu_moe(
    x: Tensor, router: Tensor, w_gu: Tensor, w_down: Tensor, s_gu: Tensor, s_down: Tensor, k: int
) -> Tensor:
    import torch_npu

    logits = F.linear(x.float(), router.float())  # (T, E)
    weights, ids, row_idx = torch_npu.npu_moe_gating_top_k_softmax(logits, None, k=k)
    rows, dst_row, expert_of_row = torch_npu.npu_moe_init_routing(
        x, row_idx, ids, active_num=x.shape[0]
    )
    ends = torch.bincount(expert_of_row, minlength=w_gu.shape[0]).cumsum(0)  # group_list_type 0
    gmm = {"group_list": ends, "split_item": 2, "group_type": 0, "group_list_type": 0}
    h = torch_npu.npu_grouped_matmul([rows], [w_gu.transpose(1, 2)], **gmm)[0]  # (T*k, 2I)
    h = torch_npu.npu_grouped_matmul([torch_npu.npu_swiglu(h)], [w_down.transpose(1, 2)], **gmm)
    shared = ffn(x, s_gu, s_down)
    return torch_npu.npu_moe_finalize_routing(
        h[0], shared, None, None, weights.to(x.dtype), dst_row, ids
    )


KERNELS = (
    Kernel(
        name="moe",
        doc="shared + top-k routed SwiGLU experts (DeepSeek-style)",
        shapes={
            "small": {"T": 16, "H": 64, "I": 32, "E": 8, "k": 2, "S": 32},
            "large": {"T": 512, "H": 1024, "I": 512, "E": 8, "k": 2, "S": 512},  # 54 MiB fp32
        },
        make=make,
        reference=reference,
        counts=counts,
        variants=(
            Variant("loop", loop, note="per-expert gather, FFN, index_add"),
            Variant("sorted", sorted_dispatch, note="sort rows by expert, contiguous segments"),
            Variant("dense", dense, note="all experts on all tokens, batched einsum GEMMs"),
            npu_variant(
                "npu_moe_fused",
                npu_moe,
                "npu_moe_gating_top_k_softmax -> npu_moe_init_routing -> npu_grouped_matmul -> "
                "npu_swiglu -> npu_grouped_matmul -> npu_moe_finalize_routing, "
                f"{VLLM_ASCEND}torch_npu-npu_moe_*.md, torch_npu-npu_grouped_matmul.md",
            ),
        ),
    ),
)
