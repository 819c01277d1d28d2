"""The scenario contract: which cases a scenario makes of a workload, and how one is measured.

A scenario owns its run: `start` prepares the engine's session (or generator, or server),
checks parity against the float32 CPU reference and either measures the case to the end,
returning its CaseRecord, or returns a `Timing` whose slices the runner takes (interleaved with
other cases' slices, or one after another) before `finish` makes the record. `run` is both in
one go. A new scenario is one file here; no engine changes for it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.engines.base import Engine
from hwbench.results.record import CaseRecord
from hwbench.workloads.base import Workload


class Timing(ABC):
    """A case prepared and checked, being timed in slices."""

    loops: int  # steps per sample

    @abstractmethod
    def sample_slice(self) -> bool:
        """Time the next slice of samples; True once the case has all it needs."""

    @abstractmethod
    def samples(self, count: int, loops: int) -> list[float]:
        """`count` samples of `loops` steps each, ns per step, outside the slices (A/B)."""

    @abstractmethod
    def finish(self, samples_ns: list[float] | None = None) -> CaseRecord:
        """The ok record from the slices' samples, or from `samples_ns` (A/B) when given."""


class Scenario(ABC):
    name: ClassVar[str]
    # What the engine must provide (Engine.provides): "session" (one timed step),
    # "generator" (token by token) or "server" (an OpenAI-compatible endpoint).
    needs: ClassVar[str] = "session"
    # Whether its `start` can return a Timing whose slices interleave with other cases'.
    sliced: ClassVar[bool] = False

    def applies(self, workload: Workload) -> bool:
        """Whether this scenario means something for `workload`."""
        return True

    @abstractmethod
    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        """Batch sizes to run; `requested` is the user's list (empty for the default)."""

    def cases(self, workload: Workload, suite: Suite, target: Target) -> list[Case]:
        """The cases of `suite` this scenario makes for `workload` on `target`."""
        return [
            Case(
                workload.name,
                workload.size,
                str(target),
                self.name,
                batch,
                suite.model_path,
                suite.seed,
                suite.check_only,
                suite.harness,
                slo=suite.slo,
                model_name=workload.model_name,
            )
            for batch in self.batches(workload, suite.batches)
        ]

    @abstractmethod
    def start(
        self, case: Case, workload: Workload, device: Device, engine: Engine
    ) -> CaseRecord | Timing:
        """Prepare, check parity, then measure: the final record, or a Timing to slice."""

    def run(self, case: Case, workload: Workload, device: Device, engine: Engine) -> CaseRecord:
        """The case measured in one go."""
        started = self.start(case, workload, device, engine)
        if isinstance(started, CaseRecord):
            return started
        while not started.sample_slice():
            pass
        return started.finish()
