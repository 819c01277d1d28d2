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
