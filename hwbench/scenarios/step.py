"""Scenarios that time one step of a prepared session (latency, throughput): prepare, first run,
parity against the float32 CPU reference, then warm-up, calibration and sampled slices."""

from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import replace
from typing import Any, ClassVar

import torch

from hwbench.analysis.roofline import for_case
from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.engines.base import Engine, Session, Spec, cast_inputs
from hwbench.measure import parity
from hwbench.measure.energy import open_window
from hwbench.measure.harness import Measurement, Sampler, timed_loop
from hwbench.measure.stats import latency_ms
from hwbench.results.record import NOT_TIMED, CaseRecord, Sampling, Timings
from hwbench.scenarios.base import Scenario, Timing
from hwbench.workloads.base import Workload


def reference_output(workload: Workload, inputs: tuple) -> Any:
    """The float32 CPU eager output that every case must reproduce."""
    model = workload.build()
    with torch.inference_mode():
        return model(*cast_inputs(inputs, torch.device("cpu"), "fp32")).float()


class StepScenario(Scenario):
    """Times `Session.run` on the case's inputs; subclasses choose the batches."""

    sliced: ClassVar[bool] = True

    @abstractmethod
    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]: ...

    def start(
        self, case: Case, workload: Workload, device: Device, engine: Engine
    ) -> CaseRecord | Timing:
        target = case.parsed_target
        key = case.key()
        inputs = workload.inputs(case.batch, seed=case.seed + 1)
        key["input_shapes"] = [list(t.shape) for t in inputs]
        base = CaseRecord(key=key, status="ok", workload=workload.describe())
        reference = reference_output(workload, inputs)  # first, so its model is freed before ours

        start = time.perf_counter()
        spec = Spec(workload, device, target.dtype, target.engine_options)
        session = engine.prepare(spec, example_inputs=inputs)
        prepare_s = time.perf_counter() - start
        placed = session.place(inputs)
        timer = device.timer()
        timer.start()
        output = session.run(placed)
        timings = Timings(prepare_s=prepare_s, first_run_s=timer.stop() / 1e9)

        precision = session.precision or target.dtype
        verdict = parity.compare(reference, session.to_cpu(output), precision)
        checked = replace(base, parity=verdict, timings=timings)
        if not verdict["passed"]:
            return replace(checked, status="failed", reason=f"parity: {verdict['reason']}")
        checked = replace(checked, session=session.details())
        if case.check_only:
            return replace(checked, reason=NOT_TIMED)
        return StepTiming(self, case, workload, device, session, placed, checked)

    def metrics(self, measurement: Measurement, batch: int) -> dict[str, Any]:
        """Latency of one step in ms (percentiles, spread, the median's CI) and throughput
        in samples/s: batch over the median step, and over the whole timed window."""
        latency = latency_ms(measurement.samples_ns)
        steps = len(measurement.samples_ns) * measurement.loops
        window_s = sum(measurement.samples_ns) * measurement.loops / 1e9
        return {
            "latency_ms": latency,
            "throughput": batch * 1e3 / latency["p50"],  # samples/s at the median step
            "throughput_window": batch * steps / window_s,
            "steps": steps,
        }


class StepTiming(Timing):
    """A step case ready to time: warmed up and calibrated on creation."""

    def __init__(
        self,
        scenario: StepScenario,
        case: Case,
        workload: Workload,
        device: Device,
        session: Session,
        placed: Any,
        checked: CaseRecord,
    ) -> None:
        self.scenario, self.case, self.workload = scenario, case, workload
        self.device, self.checked = device, checked
        self.step = lambda: session.run(placed)
        device.reset_peak_memory()
        self.timer = device.timer()
        self.energy = open_window(device)
        harness = self.energy.lengthen(case.harness, case.harness.passes)
        self.sampler = Sampler(self.step, self.timer, harness, harness.passes)
        self.loops = self.sampler.result.loops
        self.energy.measure_idle()

    def sample_slice(self) -> bool:
        if self.sampler.done:
            return True
        result = self.sampler.result
        before, first = len(result.samples_ns), not result.pass_starts
        self.energy.start()
        self.sampler.sample_slice()
        runs = len(result.samples_ns) - before + (0 if first else 1)  # + the untimed warm one
        self.energy.stop(sample=runs * self.loops * self.case.batch)
        return self.sampler.done

    def samples(self, count: int, loops: int) -> list[float]:
        self.energy.start()
        found = [timed_loop(self.step, self.timer, loops) / loops for _ in range(count)]
        self.energy.stop(sample=count * loops * self.case.batch)
        return found

    def finish(self, samples_ns: list[float] | None = None) -> CaseRecord:
        measurement = self.sampler.result
        if samples_ns is not None:
            measurement = Measurement(samples_ns=list(samples_ns), loops=self.loops)
        elif not self.sampler.done:  # the run was interrupted between its passes
            measurement.stop_reason = "interrupted"
        metrics = self.scenario.metrics(measurement, self.case.batch)
        memory = self.device.memory()
        target = self.case.parsed_target
        step_s = metrics["latency_ms"]["p50"] / 1e3
        return replace(
            self.checked,
            metrics=metrics,
            samples_ns=tuple(measurement.samples_ns),
            sampling=Sampling(
                loops=measurement.loops,
                warmup_runs=measurement.warmup_runs,
                stop_reason=measurement.stop_reason,
                rel_ci_halfwidth=measurement.rel_ci_halfwidth,
                pass_starts=tuple(measurement.pass_starts),
                pass_times=tuple(measurement.pass_times),
            ),
            memory=memory.to_json(),
            roofline=for_case(self.workload, self.case.batch, target.dtype, step_s, self.device),
            energy=self.energy.block(),
            timings=replace(self.checked.timings, sampling_s=measurement.sampling_s),
        )
