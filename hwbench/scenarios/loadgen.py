"""MLPerf's four scenarios, driven by the official LoadGen on any step engine: SingleStream
(p90 latency of one-sample queries issued one after another), MultiStream (p99 latency of
8-sample queries issued one after another), Server (p99 latency of one-sample queries at
Poisson arrivals of a target rate) and Offline (samples/s of one query holding them all).

Each case runs LoadGen twice: AccuracyOnly, in which LoadGen issues every sample of the
library once and each output is compared with the float32 CPU reference (the parity check),
then, if that passed, PerformanceOnly, whose figures are recorded only when LoadGen judged the
run VALID; an INVALID run is a failed case with LoadGen's reason. LoadGen's summary and detail
logs stay in the case's log folder beside the result file.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import torch

from hwbench.analysis.roofline import for_case
from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.engines.base import Engine, Session, Spec
from hwbench.loadgen.config import GIVEN_NAMES, loadgen_config
from hwbench.loadgen.run import mlperf_loadgen, responder, run_test
from hwbench.loadgen.summary import figure_text
from hwbench.loadgen.sut import StepSUT
from hwbench.measure import parity
from hwbench.measure.stats import latency_ms
from hwbench.results.logs import log_path
from hwbench.results.record import NOT_TIMED, CaseRecord, Sampling, Timings
from hwbench.scenarios.base import Scenario
from hwbench.scenarios.step import reference_output
from hwbench.workloads.base import Workload

CALIBRATION_STEPS = 5  # steps timed to tell LoadGen what latency or rate to expect


class LoadGenScenario(Scenario):
    """A LoadGen scenario on a step session; subclasses name LoadGen's scenario."""

    needs = "session"
    loadgen_scenario: ClassVar[str]
    queued: ClassVar[bool] = False  # queries wait in a queue for the device (Server)

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return (1,)

    def cases(self, workload: Workload, suite: Suite, target: Target) -> list[Case]:
        given = {name: getattr(suite, name) for name in GIVEN_NAMES}
        config = loadgen_config(self.loadgen_scenario, workload.size, given)
        return [replace(case, loadgen=config) for case in super().cases(workload, suite, target)]

    def start(self, case: Case, workload: Workload, device: Device, engine: Engine) -> CaseRecord:
        """Prepare, check parity on LoadGen's accuracy run, then its performance run."""
        config = case.loadgen
        assert config is not None, "a LoadGen case carries its settings"
        try:
            lg = mlperf_loadgen()
        except ImportError as error:
            return case.outcome("skipped", f"{error}: pip install 'hwbench[loadgen]'")
        samples = workload.inputs(config.sample_count, seed=case.seed + 1)
        logs = log_path("loadgen").with_suffix("").resolve()  # the report links it
        record = CaseRecord(
            key={**case.key(), "input_shapes": [[case.batch, *t.shape[1:]] for t in samples]},
            status="ok",
            workload=workload.describe(),
            details={"loadgen_logs": str(logs), "loadgen_settings": config.to_json()},
        )
        reference = reference_output(workload, samples)  # first, so its model is freed before ours
        target = case.parsed_target
        example = tuple(t[: case.batch] for t in samples)
        began = time.perf_counter()
        spec = Spec(workload, device, target.dtype, target.engine_options)
        session = engine.prepare(spec, example_inputs=example)
        prepare_s = time.perf_counter() - began
        first_ns = step_times(session, device, example, 1)[0]
        record = replace(record, timings=Timings(prepare_s=prepare_s, first_run_s=first_ns / 1e9))

        checking = self.sut(session, device, samples, case.batch, lg, keep_outputs=True)
        run_test(checking, config, "AccuracyOnly", first_ns, case.seed, logs / "accuracy")
        verdict = accuracy_parity(reference, checking.outputs, session.precision or target.dtype)
        record = replace(record, parity=verdict, session=session.details())
        if not verdict["passed"]:
            return replace(record, status="failed", reason=f"parity: {verdict['reason']}")
        if case.check_only:
            return replace(record, reason=NOT_TIMED)
        step_ns = statistics.median(step_times(session, device, example, CALIBRATION_STEPS))
        timed = self.sut(session, device, samples, case.batch, lg)
        return self.perform(record, timed, step_ns, case, workload, device)

    def perform(
        self, record: CaseRecord, sut: StepSUT, step_ns: float, case: Case, workload: Workload,
        device: Device,
    ) -> CaseRecord:  # fmt: skip
        """LoadGen's performance run: the ok record if it judged the run VALID, else failed
        with its reason and no figure shown."""
        assert case.loadgen is not None
        device.reset_peak_memory()
        began = time.perf_counter()
        logs = Path(record.details["loadgen_logs"])
        judged = run_test(sut, case.loadgen, "PerformanceOnly", step_ns, case.seed, logs)
        sampling_s = time.perf_counter() - began
        record = replace(record, timings=replace(record.timings, sampling_s=sampling_s))
        if judged["result"] != "VALID":
            reason = f"LoadGen: INVALID: {judged['reason']}"
            return replace(record, status="failed", reason=reason).with_details(loadgen=judged)
        return self.timed_record(record, judged, sut.steps_ns, case, workload, device)

    def sut(
        self,
        session: Session,
        device: Device,
        samples: tuple,
        batch: int,
        lg: Any,
        keep_outputs: bool = False,
    ) -> StepSUT:
        return StepSUT(session, device, samples, batch, responder(lg), self.queued, keep_outputs)

    def timed_record(
        self,
        record: CaseRecord,
        judged: dict[str, Any],
        steps_ns: list[float],
        case: Case,
        workload: Workload,
        device: Device,
    ) -> CaseRecord:
        """The ok record: LoadGen's figures (`loadgen`), and the SUT's step times as the
        samples and latency_ms (what compare and gate read; LoadGen's percentiles also hold
        queueing and LoadGen's own overhead); throughput is LoadGen's samples/s where it
        gives one (not MultiStream), else the samples of a step over the median step."""
        latency = latency_ms(steps_ns)
        target = case.parsed_target
        metrics = {
            "latency_ms": latency,
            "throughput": judged["samples_per_s"] or case.batch * 1e3 / latency["p50"],
        }
        said = f"LoadGen {judged['scenario']} VALID: {figure_text(judged)}"
        return replace(
            record,
            metrics=metrics,
            samples_ns=tuple(steps_ns),
            sampling=Sampling(stop_reason=said),
            memory=device.memory().to_json(),
            roofline=for_case(workload, case.batch, target.dtype, latency["p50"] / 1e3, device),
        ).with_details(loadgen=judged)


def step_times(session: Session, device: Device, inputs: tuple, count: int) -> list[float]:
    """`count` steps of `session` on `inputs`, each timed with the device's timer (ns)."""
    placed, timer, times = session.place(inputs), device.timer(), []
    for _ in range(count):
        timer.start()
        session.run(placed)
        times.append(float(timer.stop()))
    return times


def accuracy_parity(
    reference: torch.Tensor, outputs: dict[int, torch.Tensor], precision: str
) -> dict[str, Any]:
    """Every sample LoadGen asked for in AccuracyOnly mode against the reference's row."""
    asked = sorted(outputs)
    if not asked:
        return {"passed": False, "reason": "LoadGen's accuracy run asked for no sample"}
    got = torch.stack([outputs[i] for i in asked])
    verdict = parity.compare(reference[asked], got, precision)
    compared = f"{len(asked)} of {len(reference)} samples, as LoadGen issued them (AccuracyOnly)"
    return {**verdict, "compared": compared}


class SingleStream(LoadGenScenario):
    name = "loadgen-singlestream"
    loadgen_scenario = "SingleStream"


class MultiStream(LoadGenScenario):
    name = "loadgen-multistream"
    loadgen_scenario = "MultiStream"

    def cases(self, workload: Workload, suite: Suite, target: Target) -> list[Case]:
        """One case, whose step is a whole query: the samples per query as its batch."""
        return [
            replace(case, batch=case.loadgen.multi_stream_samples_per_query)
            for case in super().cases(workload, suite, target)
            if case.loadgen is not None
        ]


class Server(LoadGenScenario):
    name = "loadgen-server"
    loadgen_scenario = "Server"
    queued = True


class Offline(LoadGenScenario):
    name = "loadgen-offline"
    loadgen_scenario = "Offline"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or (max(workload.default_batches[workload.size]),)
