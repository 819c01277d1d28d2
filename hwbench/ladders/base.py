"""A ladder: one device's ordered rungs, each a target that adds one optimization."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache

from hwbench.config import Target
from hwbench.errors import unknown_choice

NOT_LADDERS = {"base", "transforms"}


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
    package = importlib.import_module("hwbench.ladders")
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in NOT_LADDERS:
            ladder = importlib.import_module(f"{package.__name__}.{info.name}").LADDER
            found[ladder.device] = ladder
    return found


def ladder_for(device: str) -> Ladder:
    """The ladder of `device`, or a UsageError listing the devices that have one."""
    found = ladders()
    if device not in found:
        raise unknown_choice("device with a ladder", device, list(found))
    return found[device]
