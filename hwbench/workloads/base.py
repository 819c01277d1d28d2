"""The workload contract: a model at a named size, weights and inputs from a seed, counts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch
from torch import nn

from hwbench.errors import unknown_choice

SIZES = ("tiny", "small", "full")


class Workload(ABC):
    """A model in plain PyTorch at one size.

    `build()` returns the float32 model in eval mode, its weights drawn from `seed`;
    `inputs(batch, seed)` returns positional CPU tensors for `model(*inputs)`, which returns
    one tensor. Counts are for one forward step at `batch`.
    """

    name: ClassVar[str]
    family: ClassVar[str]  # "mlp", "vision", "encoder", "decoder"
    configs: ClassVar[dict[str, Any]]  # size -> config object
    kernel_sets: ClassVar[tuple[str, ...]] = ("reference",)  # operator tables build_with takes
    default_batches: ClassVar[dict[str, tuple[int, ...]]] = {
        "tiny": (1, 8, 32),
        "small": (1, 8, 32),
        "full": (1, 8, 32),
    }

    # What tables call a user's model instead of name/size (hwbench/labels.py); None: built in.
    model_name: str | None = None

    def __init__(self, size: str, seed: int = 0) -> None:
        if size not in self.configs:
            raise unknown_choice(f"size for workload {self.name}", size, list(self.configs))
        self.size = size
        self.seed = seed
        self.config = self.configs[size]

    @abstractmethod
    def build(self) -> nn.Module:
        """The float32 model in eval mode with weights drawn from `self.seed`."""

    def build_with(self, kernels: str, device: str) -> nn.Module:
        """`build()` with its operators taken from the kernel set `kernels` for `device`."""
        if kernels not in self.kernel_sets:
            raise unknown_choice(f"kernel set for workload {self.name}", kernels, self.kernel_sets)
        return self.build()

    @abstractmethod
    def inputs(self, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """Positional CPU inputs for one step at `batch`, drawn from `seed` (never zeros)."""

    @abstractmethod
    def flops(self, batch: int) -> int:
        """Floating-point operations of one forward step (a multiply-add counts 2)."""

    @abstractmethod
    def bytes_moved(self, batch: int, dtype_bytes: int) -> int:
        """Compulsory memory traffic of one step: weights read once, inputs read, output
        written, at `dtype_bytes` per floating-point element (integer ids at their width)."""

    def describe(self) -> dict[str, Any]:
        """JSON-able description of the model (its config)."""
        config = self.config
        fields = vars(config) if hasattr(config, "__dict__") else dict(config)
        return {"name": self.name, "family": self.family, "size": self.size, **fields}

    def input_shapes(self, batch: int) -> list[list[int]]:
        """Shapes of `inputs(batch)`, for the case key."""
        return [list(t.shape) for t in self.inputs(batch)]


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded for one draw of weights or inputs."""
    return torch.Generator().manual_seed(seed)


def init_weights(model: nn.Module, seed: int, std: float = 0.02) -> nn.Module:
    """Draw every parameter of `model` from `seed`: normal(0, std) for matrices, ones for norm
    scales, zeros for biases; returns the model in eval mode."""
    gen = generator(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() >= 2:
                param.copy_(torch.randn(param.shape, generator=gen) * std)
            elif name.endswith("bias"):
                param.zero_()
            else:
                param.fill_(1.0)
    return model.eval()


def param_count(model: nn.Module) -> int:
    """Number of parameters of `model`."""
    return sum(p.numel() for p in model.parameters())


@runtime_checkable
class KVCacheDecoder(Protocol):
    """A decoder hwbench builds itself, with a KV cache the torch engines generate with, and
    FLOP / byte counts of one decode step (llama, moe)."""

    def make_model(self) -> nn.Module: ...

    def decode_flops(self, batch: int, context: int) -> int: ...

    def decode_bytes(self, batch: int, context: int, dtype_bytes: int) -> int: ...


@runtime_checkable
class HFExportable(Protocol):
    """A workload that can save itself as a Hugging Face checkpoint (the transformers and vLLM
    engines load that); `hf_config_dict` raises NotImplementedError where it has no form, and
    `hf_state_dict` gives the built model's tensors under the transformers model's names."""

    def hf_config_dict(self) -> dict[str, Any]: ...

    def hf_state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]: ...


@runtime_checkable
class UserModel(Protocol):
    """A user's own Hugging Face directory (`--model PATH`): the directory is the checkpoint,
    and `text` is its text model's config."""

    path: Path
    text: Any


def text_config(workload: Workload) -> Any:
    """The config holding a text model's vocabulary and positions: the user's text config for
    their own directory, else the workload's own."""
    return workload.text if isinstance(workload, UserModel) else workload.config
