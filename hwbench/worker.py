"""Runs one case in its own process: prepare, first run, parity, then the timed loop.

Usage: python -m hwbench.worker CASE.json RECORD.json
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import hwbench  # noqa: F401  (sets TORCH_DEVICE_BACKEND_AUTOLOAD before torch loads)
from hwbench import parity, roofline
from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Target
from hwbench.engines.base import Engine, Session, cast_inputs
from hwbench.harness import Sampler
from hwbench.llm_case import run_generate, run_serve
from hwbench.registry import lookup
from hwbench.results import save
from hwbench.workloads import make_workload
from hwbench.workloads.base import Workload


def reference_output(workload: Workload, inputs: tuple) -> Any:
    """The float32 CPU eager output that every case must reproduce."""
    import torch

    model = workload.build()
    with torch.inference_mode():
        return model(*cast_inputs(inputs, torch.device("cpu"), "fp32")).float()


def run_case(case: Case) -> dict[str, Any]:
    """The case's record: status, parity, metrics, raw samples, timed in one go."""
    loaded = load_case(case)
    if isinstance(loaded, dict):
        return loaded
    loaded.start(passes=1)
    loaded.sampler.sample_slice()
    return loaded.finish()


def load_case(case: Case) -> dict[str, Any] | TimedCase:
    """A step case prepared, run once and parity-checked, ready to time; or the case's final
    record when there is nothing to time (skipped, failed parity, --check-only) or it is a
    generate or serve case, which measure themselves."""
    target = case.parsed_target
    workload = make_workload(case.workload, case.size, case.seed, case.model_path)
    device = lookup("devices", target.device)()
    engine = lookup("engines", target.engine)()
    record: dict[str, Any] = {"key": case.key(), "workload": workload.describe()}
    supported, why = engine.supports(workload, device, target.dtype)
    if not supported:
        return {**record, "status": "skipped", "reason": why}
    kind = lookup("scenarios", case.scenario).kind
    if kind == "generate":
        return run_generate(case, workload, device, engine, target, record)
    if kind == "serve":
        return run_serve(case, workload, device, engine, target, record)
    inputs = workload.inputs(case.batch, seed=case.seed + 1)
    record["key"]["input_shapes"] = [list(t.shape) for t in inputs]
    reference = reference_output(workload, inputs)  # first, so its model is freed before ours

    session, placed, output = first_run(engine, workload, device, target, inputs, record)
    precision = session.precision or target.dtype
    record["parity"] = verdict = parity.compare(reference, session.to_cpu(output), precision)
    if not verdict["passed"]:
        return {**record, "status": "failed", "reason": f"parity: {verdict['reason']}"}
    record["session"] = session.details()
    if case.check_only:
        return {**record, "status": "ok", "reason": "parity checked; not timed (--check-only)"}
    return TimedCase(case, workload, device, session, placed, record)


class TimedCase:
    """A step case ready to time: `start` warms up and calibrates, then the runner takes the
    sampler's slices (one, or several interleaved with other cases), then `finish`."""

    def __init__(
        self,
        case: Case,
        workload: Workload,
        device: Device,
        session: Session,
        placed: Any,
        record: dict[str, Any],
    ) -> None:
        self.case, self.workload, self.device, self.record = case, workload, device, record
        self.step = lambda: session.run(placed)
        self.sampler: Sampler | None = None

    def start(self, passes: int) -> Sampler:
        self.device.reset_peak_memory()
        self.sampler = Sampler(self.step, self.device.timer(), self.case.harness, passes)
        return self.sampler

    def finish(self) -> dict[str, Any]:
        """The ok record from the samples taken so far."""
        assert self.sampler is not None, "start() first"
        measurement, memory = self.sampler.result, self.device.memory()
        if not self.sampler.done:  # the run was interrupted between its passes
            measurement.stop_reason = "interrupted"
        metrics = lookup("scenarios", self.case.scenario)().metrics(measurement, self.case.batch)
        step_s = metrics["latency_ms"]["p50"] / 1e3
        target = self.case.parsed_target
        return {
            **self.record,
            "status": "ok",
            "reason": "",
            "metrics": metrics,
            "samples_ns": measurement.samples_ns,
            "loops": measurement.loops,
            "warmup_runs": measurement.warmup_runs,
            "sampling_s": measurement.sampling_s,
            "stop_reason": measurement.stop_reason,
            "rel_ci_halfwidth": measurement.rel_ci_halfwidth,
            "pass_starts": measurement.pass_starts,
            "pass_times": measurement.pass_times,
            "memory": {
                "peak_allocated": memory.peak_allocated,
                "peak_reserved": memory.peak_reserved,
            },
            "roofline": roofline.for_case(
                self.workload, self.case.batch, target.dtype, step_s, self.device
            ),
        }


def first_run(
    engine: Engine,
    workload: Workload,
    device: Device,
    target: Target,
    inputs: tuple,
    record: dict[str, Any],
) -> tuple[Session, Any, Any]:
    """Prepare the session (prepare_s) and make its first run (first_run_s)."""
    start = time.perf_counter()
    session = engine.prepare(
        workload, device, target.dtype, target.engine_options, example_inputs=inputs
    )
    record["prepare_s"] = time.perf_counter() - start
    placed = session.place(inputs)
    timer = device.timer()
    timer.start()
    output = session.run(placed)
    record["first_run_s"] = timer.stop() / 1e9
    return session, placed, output


def failed_record(case: Case, error: Exception) -> dict[str, Any]:
    """The record of a case whose worker raised: the suite records it and goes on."""
    failed = case.outcome("failed", f"{type(error).__name__}: {error}")
    return {**failed, "traceback": traceback.format_exc()}


def serve_case(case_json: dict[str, Any], conn: Connection) -> None:
    """An interleaved case's worker (hwbench.worker_process.LiveWorker), timed in the case's
    `harness.passes` slices: load the case and reply {"record": ...} if there is nothing to
    time, else {"loaded": True}; then answer {"op": "slice"} with {"done": bool} after timing
    the next slice, and {"op": "finish"} with {"record": ...}. A failure replies with the
    failed record; the end of the runner's connection ends it."""
    case = Case.from_json(case_json)
    try:
        loaded = load_case(case)
        if isinstance(loaded, dict):
            conn.send({"record": loaded})
            return
        sampler = loaded.start(case.harness.passes)
        conn.send({"loaded": True})
        while conn.recv()["op"] == "slice":
            sampler.sample_slice()
            conn.send({"done": sampler.done})
        conn.send({"record": loaded.finish()})
    except EOFError:
        return
    except Exception as error:
        conn.send({"record": failed_record(case, error)})


def main(argv: list[str]) -> int:
    case_path, record_path = Path(argv[0]), Path(argv[1])
    case = Case.from_json(json.loads(case_path.read_text()))
    try:
        record = run_case(case)
    except Exception as error:
        record = failed_record(case, error)
    save(record, record_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
