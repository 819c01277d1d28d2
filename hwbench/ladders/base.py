"""A ladder: one device's ordered rungs, each a target that adds one optimization."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from hwbench.config import Target
from hwbench.registry import choose, package_modules


@dataclass(frozen=True)
class Rung:
    """One step: the target it runs, what it adds over the rung before, where that is from."""

    name: str
    target: str  # ENGINE@DEVICE:options, validated by Target
    adds: str  # the optimization and the API it calls
    env: tuple[tuple[str, str], ...] = ()  # set in its worker's environment
    source: str = ""  # documentation the rung is written from

    def parsed(self) -> Target:
        return Target.parse(self.target)


def stock_transformers(device: str) -> Rung:
    """Every ladder's first rung: the stock Hugging Face model that users start from."""
    return Rung(
        "stock-transformers",
        f"transformers@{device}",
        "the start: Hugging Face transformers as users run it (AutoModelForCausalLM / "
        "AutoModel.from_pretrained, its default attention, generate() with its dynamic KV "
        "cache), float32",
        source="huggingface.co/docs/transformers: from_pretrained, generation strategies",
    )


FP32_EAGER = (  # what the fp32-eager rung adds over the stock one
    "hwbench's own model in PyTorch eager, float32, the same weights: what leaving "
    "transformers' model code (and, generating, its dynamic KV cache) buys"
)


@dataclass(frozen=True)
class Ladder:
    device: str
    rungs: tuple[Rung, ...]

    def __post_init__(self) -> None:
        for rung in self.rungs:
            if rung.parsed().device != self.device:
                raise ValueError(f"rung {rung.name} targets {rung.target}, not {self.device}")


@cache
def ladders() -> dict[str, Ladder]:
    """device -> Ladder: each module of hwbench.ladders exports `LADDER`; the file registers."""
    return {module.LADDER.device: module.LADDER for module in package_modules("hwbench.ladders")}


def ladder_for(device: str) -> Ladder:
    """The ladder of `device`, or a UsageError listing the devices that have one."""
    return choose("device with a ladder", device, ladders())
