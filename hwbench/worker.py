"""Runs one case in its own process: prepare, first run, parity, then the timed loop.

Usage: python -m hwbench.worker CASE.json RECORD.json
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import hwbench  # noqa: F401  (sets TORCH_DEVICE_BACKEND_AUTOLOAD before torch loads)
from hwbench import parity, roofline
from hwbench.backends.base import Device
from hwbench.case import Case
from hwbench.config import Target
from hwbench.engines.base import Engine, Session, cast_inputs
from hwbench.harness import measure
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
    """The case's record: status, parity, metrics, raw samples."""
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
    if case.check_only:
        reason = "parity checked; not timed (--check-only)"
        return {**record, "status": "ok", "reason": reason, "session": session.details()}
    record.update(status="ok", reason="", **timed(session, placed, device, case))
    step_s = record["metrics"]["latency_ms"]["p50"] / 1e3
    record["roofline"] = roofline.for_case(workload, case.batch, target.dtype, step_s, device)
    record["session"] = session.details()
    return record


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


def timed(session: Session, placed: Any, device: Device, case: Case) -> dict[str, Any]:
    """Samples, metrics and peak memory of the timed loop."""
    device.reset_peak_memory()
    measurement = measure(lambda: session.run(placed), device.timer(), case.harness)
    memory = device.memory()
    return {
        "metrics": lookup("scenarios", case.scenario)().metrics(measurement, case.batch),
        "samples_ns": measurement.samples_ns,
        "loops": measurement.loops,
        "warmup_runs": measurement.warmup_runs,
        "sampling_s": measurement.sampling_s,
        "stop_reason": measurement.stop_reason,
        "rel_ci_halfwidth": measurement.rel_ci_halfwidth,
        "memory": {"peak_allocated": memory.peak_allocated, "peak_reserved": memory.peak_reserved},
    }


def main(argv: list[str]) -> int:
    case_path, record_path = Path(argv[0]), Path(argv[1])
    case = Case.from_json(json.loads(case_path.read_text()))
    try:
        record = run_case(case)
    except Exception as error:  # the case failed; the suite records it and goes on
        record = {
            "key": case.key(),
            "status": "failed",
            "reason": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(),
        }
    save(record, record_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
