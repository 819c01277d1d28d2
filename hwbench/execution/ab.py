"""A/B runs: two arms timed in one session, interleaved in ABBA blocks, judged paired.

Block i times `per_half` samples of each arm in the order A B B A (even i) or B A A B (odd i),
so drift within a block cancels and neither arm always goes first. Each block gives
log(min B / min A): interference only ever adds time, so the fastest sample of each arm in a
block is the one least disturbed, and both come from the same few milliseconds. The 20%
trimmed mean of the blocks' log-ratios, with Yuen's t interval, is the paired estimate of
log(B / A) that the gate judges (hwbench.analysis.gate). On this project's shared 2-core
machine this statistic met every target of benchmarks/gate_quality.py; the per-block median did not.
How many blocks a case takes, and when it is judged, is hwbench.execution.ab_suite's.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from hwbench.analysis.compare import Ratio, paired_ratio
from hwbench.case import Case
from hwbench.config import Target
from hwbench.errors import UsageError
from hwbench.execution.process import Timeout, WorkerDied, WorkerProcess
from hwbench.results.record import CaseRecord

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


def abba(
    arms: Mapping[str, Timed], blocks: int, per_half: int, first: int = 0
) -> list[dict[str, list[float]]]:
    """Each block's samples of arms "a" and "b", taken in ABBA / BAAB order; `first`: the
    index of the first of them among the case's blocks (a later look's blocks go on
    alternating)."""
    if blocks < 1 or per_half < 1:
        raise UsageError(f"A/B needs >= 1 block and >= 1 sample a half, got {blocks}, {per_half}")
    found = []
    for index in range(first, first + blocks):
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


class WorkerArm:
    """One arm of an A/B run: its case loaded in a worker under the arm's interpreter (a
    subprocess, hwbench.execution.worker's protocol), timed on request."""

    def __init__(self, name: str, spec: ArmSpec, timeout_s: float, stderr_file: Path) -> None:
        self.name, self.spec, self.timeout_s = name, spec, timeout_s
        try:
            self.worker = WorkerProcess(stderr_file, os.environ, python=spec.python)
        except WorkerDied as died:
            raise UsageError(f"arm {name}: {died.reason}") from None
        self.loops = 1

    def start_load(self, case: Case) -> None:
        """Ask the worker to load the case; `finish_load` waits for it."""
        self.worker.send({"op": "load", "case": case.to_json()})

    def finish_load(self) -> None:
        reply = self._reply(None)
        if not reply["timed"]:
            record = CaseRecord.from_json(reply["record"])
            if record.status == "skipped":
                raise UsageError(f"arm {self.name} cannot run its case: {record.reason}")
            if record.status == "failed":
                raise UsageError(f"arm {self.name} fails {record.reason}")
            raise UsageError(f"A/B times latency or throughput, not {record.key['scenario']}")
        self.loops = reply["loops"]

    def samples(self, count: int) -> list[float]:
        return self._reply({"op": "time", "count": count, "loops": self.loops})["samples_ns"]

    def record(self, samples_ns: list[float]) -> CaseRecord:
        """The arm's case, its metrics from `samples_ns` (every block's, in order)."""
        reply = self._reply({"op": "finish", "samples_ns": samples_ns})
        record = CaseRecord.from_json(reply["record"])
        return replace(record, key={**record.key, "arm": self.name, "python": self.spec.python})

    def _reply(self, message: dict[str, Any] | None) -> dict[str, Any]:
        try:
            reply = (
                self.worker.receive(self.timeout_s)
                if message is None
                else self.worker.request(message, self.timeout_s)
            )
        except Timeout:
            timed_out = f"arm {self.name}: worker timed out after {self.timeout_s:g} s"
            raise UsageError(timed_out) from None
        except WorkerDied as died:
            raise UsageError(f"arm {self.name}: {died.reason}") from None
        if not reply["ok"]:
            raise UsageError(f"arm {self.name}: {reply['error']}")
        return reply

    def close(self) -> None:
        self.worker.close(grace_s=10.0)


Wrap = Callable[[str, list[dict[str, list[float]]], dict[str, WorkerArm]], Mapping[str, Timed]]


class CaseArms:
    """Each case's two arms ("a", "b") loaded in workers for one visit (a `with` on `open`), the
    sample length (loops) the same for both and kept from the case's first load; each visit
    leaves the arms' records in `records` (metrics from all the case's blocks so far). `cases`:
    label -> arm -> Case; `wrap(label, blocks, arms)` may stand between the arms and sampling
    (progress lines)."""

    def __init__(
        self,
        specs: dict[str, ArmSpec],
        cases: dict[str, dict[str, Case]],
        timeout_s: float,
        wrap: Wrap | None = None,
    ) -> None:
        self.specs, self.cases, self.timeout_s, self.wrap = specs, cases, timeout_s, wrap
        self.loops: dict[str, int] = {}
        self.records: dict[str, dict[str, CaseRecord]] = {}

    @contextlib.contextmanager
    def open(
        self, label: str, blocks: list[dict[str, list[float]]]
    ) -> Iterator[Mapping[str, Timed]]:
        """The arms of case `label`, whose blocks so far are `blocks` (extended as they go)."""
        with contextlib.ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hwbench-ab-")))
            arms: dict[str, WorkerArm] = {}
            for name, spec in self.specs.items():
                arms[name] = WorkerArm(name, spec, self.timeout_s, tmp / f"stderr-{name}.txt")
                stack.callback(arms[name].close)
                arms[name].start_load(self.cases[label][name])
            for arm in arms.values():
                arm.finish_load()
            loops = self.loops.setdefault(label, max(arm.loops for arm in arms.values()))
            for arm in arms.values():
                arm.loops = loops
            yield self.wrap(label, blocks, arms) if self.wrap else arms
            self.records[label] = {
                name: arm.record(pooled(blocks, name)) for name, arm in arms.items()
            }
