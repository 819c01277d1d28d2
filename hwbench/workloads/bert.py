"""A BERT encoder (post-LayerNorm, GELU FFN) returning the last hidden states; its Hugging Face
form is transformers' BertModel under that model's parameter names."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from hwbench.workloads.base import Workload, generator, init_weights


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    seq_len: int  # tokens per sequence in the benchmark
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12


# hwbench's module names -> BertModel's (inside `layers.N.` -> `encoder.layer.N.`)
HF_NAMES = {
    "embeddings.word.": "embeddings.word_embeddings.",
    "embeddings.position.": "embeddings.position_embeddings.",
    "embeddings.token_type.": "embeddings.token_type_embeddings.",
    "embeddings.norm.": "embeddings.LayerNorm.",
    "query.": "attention.self.query.",
    "key.": "attention.self.key.",
    "value.": "attention.self.value.",
    "attn_out.": "attention.output.dense.",
    "attn_norm.": "attention.output.LayerNorm.",
    "ffn_in.": "intermediate.dense.",
    "ffn_out.": "output.dense.",
    "ffn_norm.": "output.LayerNorm.",
}


def hf_name(name: str) -> str:
    """A parameter's name in transformers' BertModel."""
    prefix = ""
    if name.startswith("layers."):
        _, index, name = name.split(".", 2)
        prefix = f"encoder.layer.{index}."
    ours = next(k for k in HF_NAMES if name.startswith(k))
    return prefix + HF_NAMES[ours] + name[len(ours) :]


class Embeddings(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        # every token is of type 0 (one segment)
        x = self.word(input_ids) + self.position(positions) + self.token_type.weight[0]
        return self.norm(x)  # (B, T, hidden)


class Layer(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        hidden, eps = config.hidden_size, config.layer_norm_eps
        self.heads = config.num_attention_heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.ffn_in = nn.Linear(hidden, config.intermediate_size)
        self.ffn_out = nn.Linear(config.intermediate_size, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=eps)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, hidden = x.shape
        return x.view(batch, seq, self.heads, hidden // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        attn = F.scaled_dot_product_attention(q, k, v)  # (B, heads, T, head_dim)
        attn = attn.transpose(1, 2).reshape(x.shape)
        x = self.attn_norm(x + self.attn_out(attn))
        return self.ffn_norm(x + self.ffn_out(F.gelu(self.ffn_in(x))))


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.embeddings = Embeddings(config)
        self.layers = nn.ModuleList(Layer(config) for _ in range(config.num_hidden_layers))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(input_ids)
        for layer in self.layers:
            x = layer(x)
        return x  # (B, T, hidden)


class Bert(Workload):
    name = "bert"
    family = "encoder"
    configs: ClassVar[dict[str, Any]] = {
        "tiny": BertConfig(1024, 128, 2, 4, 512, seq_len=64, max_position_embeddings=128),
        "small": BertConfig(30522, 768, 12, 12, 3072, seq_len=128),  # BERT-base
        "full": BertConfig(30522, 1024, 24, 16, 4096, seq_len=512),  # BERT-large
    }
    default_batches: ClassVar[dict[str, tuple[int, ...]]] = {
        "tiny": (1, 8, 32),
        "small": (1, 8, 32),
        "full": (1, 8, 32),
    }

    def build(self) -> nn.Module:
        return init_weights(BertEncoder(self.config), self.seed)

    def hf_config_dict(self) -> dict[str, Any]:
        """transformers' BertConfig: exact GELU, no dropout, absolute positions."""
        fields = {k: v for k, v in asdict(self.config).items() if k != "seq_len"}
        extra = {"hidden_act": "gelu", "hidden_dropout_prob": 0.0, "pad_token_id": 0}
        extra |= {"attention_probs_dropout_prob": 0.0, "position_embedding_type": "absolute"}
        return {**fields, **extra, "model_type": "bert", "architectures": ["BertModel"]}

    def hf_state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The weights under BertModel's names, and its pooler (which the last hidden states
        do not use) drawn from the seed."""
        state = {hf_name(k): v for k, v in model.state_dict().items()}
        hidden = self.config.hidden_size
        pooler = torch.randn(hidden, hidden, generator=generator(self.seed + 1)) * 0.02
        return {**state, "pooler.dense.weight": pooler, "pooler.dense.bias": torch.zeros(hidden)}

    def inputs(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        shape = (batch, self.config.seq_len)
        # ids from 1: 0 is [PAD] in BERT vocabularies
        return (torch.randint(1, self.config.vocab_size, shape, generator=generator(seed)),)

    def flops(self, batch: int) -> int:
        """Per layer, per token: 2 * (4 h^2 + 2 h i) for the Linears and 2 * 2 * T * h for the
        attention scores and values; embeddings, LayerNorm, softmax, GELU not counted."""
        c, tokens = self.config, batch * self.config.seq_len
        linear = 2 * (4 * c.hidden_size**2 + 2 * c.hidden_size * c.intermediate_size)
        attention = 4 * c.seq_len * c.hidden_size
        return c.num_hidden_layers * tokens * (linear + attention)

    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        """Parameters once, int64 ids, (B, T, hidden) output."""
        c = self.config
        with torch.device("meta"):
            params = sum(p.numel() for p in BertEncoder(c).parameters())
        tokens = batch * c.seq_len
        return (params + tokens * c.hidden_size) * dtype_bytes + tokens * 8
