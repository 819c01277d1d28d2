"""A user's own Hugging Face model directory as a workload (`--model PATH`)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from hwbench.errors import UsageError
from hwbench.workloads.base import Workload, generator

LOAD_ERRORS = (OSError, ValueError, KeyError, TypeError, ImportError)


class OneOutput(nn.Module):
    """Calls a transformers model on input_ids and returns one tensor of its output."""

    def __init__(self, model: nn.Module, field: str) -> None:
        super().__init__()
        self.model, self.field = model, field

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return getattr(self.model(input_ids=input_ids, return_dict=True), self.field)


class HFModel(Workload):
    name = "hf"
    family = "decoder"  # per instance: "decoder" for causal LMs, else "encoder"
    needs_path = True
    configs: ClassVar[dict[str, Any]] = {"tiny": 32, "small": 128, "full": 512}  # seq len

    def __init__(
        self, size: str, seed: int = 0, *, path: Path | None = None, name: str | None = None
    ) -> None:
        super().__init__(size, seed)
        if path is None:
            raise UsageError("workload hf needs --model PATH (a Hugging Face model directory)")
        self.path = Path(path)
        self.hf_config = _load_config(self.path)
        if getattr(self.hf_config, "is_encoder_decoder", False):
            raise UsageError(f"--model {self.path}: encoder-decoder models are not supported")
        self.causal = _is_causal(self.hf_config)
        self.family = "decoder" if self.causal else "encoder"
        self.text = self.hf_config.get_text_config()
        self.seq_len = min(self.config, getattr(self.text, "max_position_embeddings", self.config))
        # its own name and the sequence length the size gave: it has no size of its own
        self.model_name = f"{name or self.path.resolve().name} seq{self.seq_len}"

    def build(self) -> nn.Module:
        try:
            model = self._auto_class().from_pretrained(self.path, local_files_only=True)
        except LOAD_ERRORS as error:
            reason = _first_line(error)
            raise UsageError(f"--model {self.path}: cannot load the model ({reason})") from error
        field = "logits" if self.causal else "last_hidden_state"
        return OneOutput(model.float(), field).eval()

    def inputs(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        shape = (batch, self.seq_len)
        return (torch.randint(0, self.text.vocab_size, shape, generator=generator(seed)),)

    def flops(self, batch: int) -> int:
        """Estimate: 2 * (weights of every Linear, a tied lm_head included) per token, plus
        4 * T * hidden per token per layer for attention scores and values when the config
        gives num_hidden_layers and hidden_size."""
        tokens = batch * self.seq_len
        layers = getattr(self.text, "num_hidden_layers", 0)
        attention = 4 * self.seq_len * getattr(self.text, "hidden_size", 0) * layers
        return tokens * (2 * _matmul_weights(self._skeleton) + attention)

    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        """Parameters once, int64 ids, and the logits or last hidden states."""
        tokens = batch * self.seq_len
        width = self.text.vocab_size if self.causal else self.text.hidden_size
        return (self.params() + tokens * width) * dtype_bytes + tokens * 8

    def params(self) -> int:
        """Parameter count of the architecture (tied weights once), built on the meta device."""
        return sum(p.numel() for p in self._skeleton.parameters())

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "family": self.family, "size": self.size,
            "model_type": self.hf_config.model_type, "path": str(self.path),
            "params": self.params(), "seq_len": self.seq_len,
        }  # fmt: skip

    def _auto_class(self) -> Any:
        import transformers

        return transformers.AutoModelForCausalLM if self.causal else transformers.AutoModel

    @cached_property
    def _skeleton(self) -> nn.Module:
        """The architecture on the meta device, for counting."""
        with torch.device("meta"):
            return self._auto_class().from_config(self.hf_config)


def _load_config(path: Path) -> Any:
    if not path.is_dir():
        raise UsageError(f"--model {path}: no such directory")
    if not (path / "config.json").is_file():
        raise UsageError(
            f"--model {path}: no config.json there (not a Hugging Face model directory)"
        )
    try:
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(path, local_files_only=True)
    except ImportError as error:
        raise UsageError(
            f"--model needs transformers: pip install 'hwbench[hf]' ({error})"
        ) from error
    except LOAD_ERRORS as error:
        reason = _first_line(error)
        raise UsageError(f"--model {path}: unreadable config.json ({reason})") from error


def _is_causal(config: Any) -> bool:
    architectures = getattr(config, "architectures", None) or []
    causal_head = any(a.endswith("ForCausalLM") for a in architectures)
    return causal_head or bool(getattr(config, "is_decoder", False))


def _matmul_weights(model: nn.Module) -> int:
    from transformers.pytorch_utils import Conv1D  # GPT-2 style projections

    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear | Conv1D))


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
