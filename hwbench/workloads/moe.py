"""A DeepSeek-style mixture-of-experts decoder: llama's attention, norms and rotary embeddings,
and a feed-forward of shared experts plus top-k softmax-gated routed experts (kernels/moe.py).

Differences from DeepSeek-V2 kept on purpose: grouped-query attention instead of MLA, and every
layer is a MoE layer (DeepSeek's first layer is dense). Gate weights are the softmax over all
experts at the top k, not renormalized (DeepSeek-V2's `norm_topk_prob=False`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from hwbench.workloads.base import init_weights
from hwbench.workloads.kernel_sets import REFERENCE, Ops
from hwbench.workloads.llama import Llama, LlamaConfig, LlamaModel

Tensor = torch.Tensor


@dataclass(frozen=True)
class MoeConfig(LlamaConfig):
    """`intermediate_size` is each expert's (DeepSeek's moe_intermediate_size)."""

    n_routed_experts: int = 8
    n_shared_experts: int = 1  # one SwiGLU FFN of n_shared_experts x intermediate_size
    num_experts_per_tok: int = 2  # top k

    @property
    def shared_size(self) -> int:
        return self.n_shared_experts * self.intermediate_size


class MoE(nn.Module):
    """Router `gate` (E, H), routed experts stacked (E, 2I, H) and (E, H, I), shared experts."""

    ops: Ops = REFERENCE

    def __init__(self, c: MoeConfig) -> None:
        super().__init__()
        e, h, i, s = c.n_routed_experts, c.hidden_size, c.intermediate_size, c.shared_size
        self.k = c.num_experts_per_tok
        self.gate = nn.Linear(h, e, bias=False)
        self.experts_gate_up = nn.Parameter(torch.empty(e, 2 * i, h))  # [gate | up] per expert
        self.experts_down = nn.Parameter(torch.empty(e, h, i))
        self.shared_gate_up = nn.Parameter(torch.empty(2 * s, h))
        self.shared_down = nn.Parameter(torch.empty(h, s))

    def forward(self, x: Tensor) -> Tensor:
        weights = (self.gate.weight, self.experts_gate_up, self.experts_down)
        shared = (self.shared_gate_up, self.shared_down)
        y = self.ops.moe(x.flatten(0, -2), *weights, *shared, self.k)  # (B*T, H)
        return y.view_as(x)


def init_router(model: nn.Module, seed: int) -> nn.Module:
    """Routers drawn with std 1/sqrt(H), so that the (unit-RMS) normed hidden states give
    logits of std ~1: a decisive top-k, as a trained router's, rather than near ties."""
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, MoE):
                w = module.gate.weight
                w.copy_(torch.randn(w.shape, generator=gen) * w.shape[1] ** -0.5)
    return model


class Moe(Llama):
    name = "moe"
    family = "decoder"
    # vocab, hidden, expert intermediate, layers, heads, kv heads, seq_len
    configs: ClassVar[dict[str, Any]] = {
        "tiny": MoeConfig(1024, 128, 64, 2, 4, 2, 64, 256),
        "small": MoeConfig(32000, 768, 384, 12, 12, 4, 256, 2048, n_routed_experts=16),
        "full": MoeConfig(  # DeepSeek-V2-Lite's shapes (MHA in place of MLA)
            102400, 2048, 1408, 27, 16, 16, 1024, 4096, n_routed_experts=64,
            n_shared_experts=2, num_experts_per_tok=6,
        ),
    }  # fmt: skip

    def build(self) -> nn.Module:
        return init_router(init_weights(self.make_model(), self.seed), self.seed)

    def make_model(self) -> LlamaModel:
        return LlamaModel(self.config, ffn=MoE)

    def hf_config_dict(self) -> dict[str, Any]:
        raise NotImplementedError("the moe workload has no transformers counterpart")

    def decode_flops(self, batch: int, context: int) -> int:
        """One token per sequence: attention's Linears and scores over `context` positions,
        the router, the k routed and the shared experts (3 H I MACs each), lm_head."""
        c = self.config
        kv, q = c.num_key_value_heads * c.head_dim, c.num_attention_heads * c.head_dim
        experts = c.num_experts_per_tok * c.intermediate_size + c.shared_size
        linear = c.hidden_size * (2 * q + 2 * kv + c.n_routed_experts + 3 * experts)  # MACs
        attention = 2 * context * q
        lm_head = c.hidden_size * c.vocab_size
        return batch * 2 * (c.num_hidden_layers * (linear + attention) + lm_head)

    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        """Parameters of the experts a step can touch (min(E, tokens x k) per layer) and the
        rest once, int64 ids, (B, T, vocab) logits."""
        tokens = batch * self.config.seq_len
        weights = self.params() - self.idle_expert_params(tokens)
        return (weights + tokens * self.config.vocab_size) * dtype_bytes + tokens * 8

    def decode_bytes(self, batch: int, context: int, dtype_bytes: int) -> int:
        c = self.config
        cache = 2 * c.num_hidden_layers * batch * context * c.num_key_value_heads * c.head_dim
        weights = self.params() - self.idle_expert_params(batch)
        return (weights + batch * c.vocab_size + cache) * dtype_bytes + batch * 8

    def idle_expert_params(self, tokens: int) -> int:
        """Routed-expert parameters no token can reach when `tokens` pick k experts each."""
        c = self.config
        idle = max(0, c.n_routed_experts - tokens * c.num_experts_per_tok)
        return c.num_hidden_layers * idle * 3 * c.hidden_size * c.intermediate_size
