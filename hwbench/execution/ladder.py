"""Runs a device's ladder as hwbench cases and reads the gains off the result file.

Each rung runs through `run_suite` (worker process, parity against the float32 CPU reference)
as a suite of its own, so that a rung's environment (e.g. TASK_QUEUE_ENABLE) reaches its
worker only; the records are gathered in one result file, suite `ladder-<device>-<workload>`,
saved after every rung. Each record carries `rung` (its name); the document carries `ladder`
(the rungs in order), which is what a waterfall is drawn from.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hwbench.backends.peaks import PEAKS_DIR_ENV
from hwbench.config import Suite
from hwbench.execution.runner import NotSaved, device_status, run_suite, save
from hwbench.ladders.base import Ladder, Rung
from hwbench.measure.harness import HarnessConfig
from hwbench.results import store
from hwbench.results.env import fingerprint
from hwbench.results.files import check_writable
from hwbench.results.record import CaseRecord


@dataclass(frozen=True)
class LadderRun:
    """What to climb: a workload at a size, one scenario at one batch."""

    ladder: Ladder
    workload: str
    size: str = "tiny"
    scenario: str = "latency"
    batch: int = 8  # throughput only; latency runs batch 1
    harness: HarnessConfig = field(default_factory=HarnessConfig)
    seed: int = 0
    case_timeout_s: float = 600.0

    @property
    def name(self) -> str:
        return f"ladder-{self.ladder.device}-{self.workload}"

    def suite(self, rung: Rung) -> Suite:
        """The one-target suite that runs `rung`."""
        batches = (self.batch,) if self.scenario == "throughput" else ()
        return Suite(
            name=self.name,
            workloads=(self.workload,),
            sizes=(self.size,),
            targets=(rung.parsed(),),
            scenarios=(self.scenario,),
            batches=batches,
            seed=self.seed,
            case_timeout_s=self.case_timeout_s,
            harness=self.harness,
        )

    def config(self) -> dict[str, Any]:
        data = asdict(self)
        data["ladder"] = {
            "device": self.ladder.device,
            "rungs": [asdict(r) for r in self.ladder.rungs],
        }
        return data


@contextlib.contextmanager
def environment(pairs: dict[str, str]) -> Iterator[None]:
    """os.environ with `pairs` set, restored afterwards (workers inherit it)."""
    saved = {k: os.environ.get(k) for k in pairs}
    os.environ.update(pairs)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_ladder(
    run: LadderRun,
    out_dir: Path,
    machine: str,
    on_rung: Callable[[Rung, list[CaseRecord] | None], None] = lambda r, c: None,
) -> tuple[dict[str, Any], Path]:
    """Every rung in order, the result file saved after each; returns it and its path.
    `on_rung(rung, None)` is called as a rung starts, `on_rung(rung, records)` as it ends."""
    check_writable(out_dir / machine)
    document = store.new_results(run.name, machine, fingerprint(), run.config())
    document["devices"] = device_status(run.suite(run.ladder.rungs[0]))
    document["ladder"] = [rung.name for rung in run.ladder.rungs]
    path = store.save_new(document, store.result_path(out_dir, machine, run.name))
    peaks = {PEAKS_DIR_ENV: os.environ.get(PEAKS_DIR_ENV, str(out_dir / machine))}
    for rung in run.ladder.rungs:
        on_rung(rung, None)
        unsaved = None
        with tempfile.TemporaryDirectory() as tmp, environment({**peaks, **dict(rung.env)}):
            try:
                rung_document, _ = run_suite(run.suite(rung), Path(tmp), machine)
            except NotSaved as stopped:  # the rung's cases are in memory: keep them
                unsaved, rung_document = stopped, stopped.document
        records = [record.with_details(rung=rung.name) for record in rung_document["cases"]]
        document["cases"].extend(records)
        if unsaved is not None:
            raise NotSaved(unsaved, document)
        save(document, path)
        on_rung(rung, records)
    return document, path


@dataclass(frozen=True)
class Step:
    """One rung's line: its numbers and its gains; `counted` when it ran and passed parity."""

    rung: str
    record: CaseRecord
    latency_ms: float | None = None
    throughput: float | None = None
    vs_previous: float | None = None  # speed-up over the last counted rung
    vs_first: float | None = None  # speed-up over the first rung, when it counted

    @property
    def counted(self) -> bool:
        return self.latency_ms is not None


def steps(document: dict[str, Any]) -> list[Step]:
    """The ladder's steps in rung order, with gains over the previous counted rung and the
    first counted rung (stock transformers, or fp32 eager for a workload it does not run); a
    failed (parity included) or skipped rung has no numbers and no gain."""
    out: list[Step] = []
    previous = first = None
    for record in document["cases"]:
        if record.status != "ok" or record.metrics is None:
            out.append(Step(record.details.get("rung", "?"), record))
            continue
        p50 = record.metrics["latency_ms"]["p50"]
        gain_prev = previous / p50 if previous else None
        first = p50 if first is None else first
        out.append(
            Step(
                record.details.get("rung", "?"),
                record,
                latency_ms=p50,
                throughput=record.metrics["throughput"],
                vs_previous=gain_prev,
                vs_first=first / p50 if first else None,
            )
        )
        previous = p50
    return out
