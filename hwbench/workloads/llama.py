"""A Llama decoder (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU) whose config
and parameter names match Hugging Face's LlamaConfig / LlamaForCausalLM, with a static KV cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from hwbench.workloads.base import Workload, generator, init_weights
from hwbench.workloads.kernel_sets import KERNEL_SETS, REFERENCE, Ops, kernel_set

Tensor = torch.Tensor
Pair = tuple[Tensor, Tensor]  # (cos, sin), or a layer's (keys, values)


@dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    seq_len: int  # tokens per sequence in the benchmark (not a HF field)
    max_position_embeddings: int  # length of the rotary tables
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def hf_config_dict(self) -> dict[str, Any]:
        """Keyword arguments for `transformers.LlamaConfig`."""
        fields = {k: v for k, v in asdict(self).items() if k != "seq_len"}
        extra = {"head_dim": self.head_dim, "hidden_act": "silu", "tie_word_embeddings": False}
        extra |= {"attention_bias": False, "mlp_bias": False}
        return {**fields, **extra, "architectures": ["LlamaForCausalLM"]}


class KVCache:
    """Preallocated per-layer keys and values, (B, n_kv_heads, max_len, head_dim), as gpt-fast."""

    def __init__(self, layers: int, shape: tuple[int, ...], dtype: torch.dtype, device: Any):
        self.k = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.v = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.max_len = shape[2]

    def update(self, layer: int, positions: Tensor, k: Tensor, v: Tensor) -> Pair:
        """Write k, v (B, n_kv_heads, T, head_dim) at `positions`; return the whole layer."""
        self.k[layer].index_copy_(2, positions, k.to(self.k[layer].dtype))
        self.v[layer].index_copy_(2, positions, v.to(self.v[layer].dtype))
        return self.k[layer], self.v[layer]


class RMSNorm(nn.Module):
    ops: Ops = REFERENCE  # modules with `ops` call their math through it (use_kernels)

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ops.rms_norm(x, self.weight, self.eps)


class Attention(nn.Module):
    ops: Ops = REFERENCE

    def __init__(self, c: LlamaConfig, layer: int) -> None:
        super().__init__()
        self.layer, self.heads, self.kv_heads = layer, c.num_attention_heads, c.num_key_value_heads
        self.q_proj = nn.Linear(c.hidden_size, self.heads * c.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kv_heads * c.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kv_heads * c.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * c.head_dim, c.hidden_size, bias=False)

    def forward(self, x: Tensor, rope: Pair, positions: Tensor, cache: KVCache | None) -> Tensor:
        batch, seq, _ = x.shape
        q = self.q_proj(x).view(batch, seq, self.heads, -1).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(batch, seq, self.kv_heads, -1).transpose(1, 2)  # (B, KV, T, D)
        v = self.v_proj(x).view(batch, seq, self.kv_heads, -1).transpose(1, 2)
        q, k = self.ops.rotate(q, *rope), self.ops.rotate(k, *rope)
        mask = None
        if cache is not None:
            k, v = cache.update(self.layer, positions, k, v)  # (B, KV, max_len, D)
            keys = torch.arange(cache.max_len, device=x.device)
            mask = keys[None, :] <= positions[:, None]  # (T, max_len)
        out = self.ops.attend(q, k, v, mask)  # (B, H, T, D)
        return self.o_proj(out.transpose(1, 2).reshape(batch, seq, -1))


class MLP(nn.Module):
    ops: Ops = REFERENCE

    def __init__(self, c: LlamaConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.ops.swiglu(self.gate_proj(x), self.up_proj(x)))


FFN = Callable[[LlamaConfig], nn.Module]  # config -> a layer's feed-forward


class DecoderLayer(nn.Module):
    def __init__(self, c: LlamaConfig, layer: int, ffn: FFN) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c, layer)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = ffn(c)

    def forward(self, x: Tensor, rope: Pair, positions: Tensor, cache: KVCache | None) -> Tensor:
        x = x + self.self_attn(self.input_layernorm(x), rope, positions, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, c: LlamaConfig, ffn: FFN) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(c, i, ffn) for i in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)


class LlamaModel(nn.Module):
    """`model.*` and `lm_head` as in LlamaForCausalLM; rotary tables are not in the state.
    `ffn` makes each layer's feed-forward (Llama's SwiGLU MLP, or a mixture of experts)."""

    def __init__(self, c: LlamaConfig, ffn: FFN = MLP) -> None:
        super().__init__()
        self.config = c
        self.model = Backbone(c, ffn)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        exponents = torch.arange(0, c.head_dim, 2, dtype=torch.int64).float() / c.head_dim
        inv_freq = 1.0 / (c.rope_theta**exponents)
        angles = torch.outer(torch.arange(c.max_position_embeddings).float(), inv_freq)
        angles = torch.cat((angles, angles), dim=-1)  # (max_pos, head_dim)
        self.register_buffer("rope_cos", angles.cos(), persistent=False)
        self.register_buffer("rope_sin", angles.sin(), persistent=False)

    def use_kernels(self, ops: Ops) -> LlamaModel:
        """Every operator table in the model swapped for `ops`; the weights stay."""
        for module in self.modules():
            if hasattr(module, "ops"):
                module.ops = ops
        return self

    def new_cache(
        self, batch: int, max_len: int, dtype: torch.dtype = torch.float32, device: Any = None
    ) -> KVCache:
        """An empty cache for `batch` sequences of up to `max_len` tokens."""
        c = self.config
        shape = (batch, c.num_key_value_heads, max_len, c.head_dim)
        return KVCache(c.num_hidden_layers, shape, dtype, device or self.lm_head.weight.device)

    def forward(
        self, input_ids: Tensor, cache: KVCache | None = None, start_pos: int = 0
    ) -> Tensor:
        """Logits (B, T, vocab) for ids (B, T) at positions start_pos.. (an int or 0-d tensor)."""
        positions = torch.arange(input_ids.shape[1], device=input_ids.device) + start_pos
        rope = (self.rope_cos[positions], self.rope_sin[positions])  # (T, head_dim) each
        x = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            x = layer(x, rope, positions, cache)
        return self.lm_head(self.model.norm(x))


class Llama(Workload):
    name = "llama"
    family = "decoder"
    # vocab, hidden, intermediate, layers, heads, kv heads, seq_len
    configs: ClassVar[dict[str, Any]] = {
        "tiny": LlamaConfig(1024, 128, 352, 2, 4, 2, 64, max_position_embeddings=256),
        "small": LlamaConfig(32000, 768, 2048, 12, 12, 4, 256, max_position_embeddings=2048),
        "full": LlamaConfig(  # Llama-3-8B shapes
            128256, 4096, 14336, 32, 32, 8, 1024, max_position_embeddings=8192,
            rope_theta=500000.0,
        ),
    }  # fmt: skip
    default_batches: ClassVar[dict[str, tuple[int, ...]]] = {
        "tiny": (1, 8, 32), "small": (1, 8, 32), "full": (1, 4, 16),
    }  # fmt: skip

    kernel_sets = KERNEL_SETS

    def build(self) -> nn.Module:
        return init_weights(self.make_model(), self.seed)

    def build_with(self, kernels: str, device: str) -> nn.Module:
        return self.build().use_kernels(kernel_set(kernels, device))

    def make_model(self) -> LlamaModel:
        """The model with weights not yet drawn."""
        return LlamaModel(self.config)

    def hf_config_dict(self) -> dict[str, Any]:
        return self.config.hf_config_dict()

    def hf_state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """LlamaForCausalLM's names are this model's."""
        return model.state_dict()

    def inputs(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        shape = (batch, self.config.seq_len)
        return (torch.randint(0, self.config.vocab_size, shape, generator=generator(seed)),)

    def flops(self, batch: int) -> int:
        """The Linears (q, k, v, o, gate, up, down, lm_head) and attention scores and values
        over the full T x T (causal half not subtracted); norms, rotary, SiLU not counted."""
        return self.decode_flops(batch, self.config.seq_len) * self.config.seq_len

    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        """Parameters once, int64 ids, (B, T, vocab) logits; no KV cache is read."""
        tokens = batch * self.config.seq_len
        return (self.params() + tokens * self.config.vocab_size) * dtype_bytes + tokens * 8

    def decode_flops(self, batch: int, context: int) -> int:
        """FLOPs of one token per sequence attending to `context` positions."""
        c = self.config
        kv, q = c.num_key_value_heads * c.head_dim, c.num_attention_heads * c.head_dim
        linear = c.hidden_size * (2 * q + 2 * kv + 3 * c.intermediate_size)  # MACs
        attention = 2 * context * q  # MACs of scores and values
        lm_head = c.hidden_size * c.vocab_size
        return batch * 2 * (c.num_hidden_layers * (linear + attention) + lm_head)

    def decode_bytes(self, batch: int, context: int, dtype_bytes: int) -> int:
        """One decode step: parameters, ids, logits and the keys and values of `context`
        positions read from the cache, at `dtype_bytes`."""
        c = self.config
        cache = 2 * c.num_hidden_layers * batch * context * c.num_key_value_heads * c.head_dim
        return (self.params() + batch * c.vocab_size + cache) * dtype_bytes + batch * 8

    def params(self) -> int:
        """Parameter count, from the meta device (nothing is allocated)."""
        with torch.device("meta"):
            return sum(p.numel() for p in self.make_model().parameters())
