"""A/B runs: two arms timed in one session, interleaved in ABBA blocks, judged paired.

Block i times `per_half` samples of each arm in the order A B B A (even i) or B A A B (odd i),
so drift within a block cancels and neither arm always goes first. Each block gives
log(min B / min A): interference only ever adds time, so the fastest sample of each arm in a
block is the one least disturbed, and both come from the same few milliseconds. The 20%
trimmed mean of the blocks' log-ratios, with Yuen's t interval, is the paired estimate of
log(B / A) that the gate judges (hwbench.gate). On this project's shared 2-core machine this
statistic met every target of benchmarks/gate_quality.py; the per-block median did not.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Protocol

from hwbench.compare import Ratio, paired_ratio
from hwbench.config import Target
from hwbench.errors import UsageError

ORDERS = (("a", "b", "b", "a"), ("b", "a", "a", "b"))


@dataclass(frozen=True)
class ArmSpec:
    """An arm: a target, run by `python` (another install of hwbench, or this one)."""

    target: str
    python: str = sys.executable

    @classmethod
    def parse(cls, text: str) -> ArmSpec:
        """`TARGET` or `python=/path/to/python:TARGET`."""
        if not text.startswith("python="):
            return cls(str(Target.parse(text)))
        python, colon, target = text.removeprefix("python=").partition(":")
        if not colon or not python or "@" not in target:
            raise UsageError(f"arm {text!r} is not python=PATH:ENGINE@DEVICE[:options]")
        return cls(target, python)

    def __str__(self) -> str:
        here = self.python == sys.executable
        return self.target if here else f"python={self.python}:{self.target}"


class Timed(Protocol):
    def samples(self, count: int) -> list[float]:
        """`count` samples, ns per step."""
        ...


def abba(arms: dict[str, Timed], blocks: int, per_half: int) -> list[dict[str, list[float]]]:
    """Each block's samples of arms "a" and "b", taken in ABBA / BAAB order."""
    if blocks < 2 or per_half < 1:
        raise UsageError(f"A/B needs >= 2 blocks and >= 1 sample a half, got {blocks}, {per_half}")
    found = []
    for index in range(blocks):
        block: dict[str, list[float]] = {"a": [], "b": []}
        for name in ORDERS[index % 2]:
            block[name] += arms[name].samples(per_half)
        found.append(block)
    return found


def log_ratios(blocks: list[dict[str, list[float]]]) -> list[float]:
    """log(min B / min A) of each block."""
    return [math.log(min(block["b"]) / min(block["a"])) for block in blocks]


def block_ratio(blocks: list[dict[str, list[float]]]) -> Ratio:
    """B / A from the blocks: the trimmed mean of their log-ratios, with its standard error."""
    return paired_ratio(log_ratios(blocks))


def pooled(blocks: list[dict[str, list[float]]], arm: str) -> list[float]:
    """One arm's samples in the order they were taken."""
    return [sample for block in blocks for sample in block[arm]]


def arm_record(
    record: dict[str, Any], arm: str, spec: ArmSpec, samples_ns: list[float], loops: int
) -> dict[str, Any]:
    """The result-file case of one arm, its metrics from the samples of every block."""
    from hwbench.harness import Measurement
    from hwbench.registry import lookup

    key = {**record["key"], "arm": arm, "python": spec.python}
    scenario = lookup("scenarios", key["scenario"])()
    metrics = scenario.metrics(Measurement(samples_ns=samples_ns, loops=loops), key["batch"])
    return {
        **record,
        "key": key,
        "status": "ok",
        "reason": "",
        "metrics": metrics,
        "samples_ns": samples_ns,
        "loops": loops,
    }
