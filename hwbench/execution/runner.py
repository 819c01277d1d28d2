"""Runs a suite: each case in a worker process of its own with a timeout (one protocol:
hwbench.execution.worker), the result file saved after each.

Step cases (latency, throughput) of more than one pass are measured interleaved
(hwbench.execution.interleave) in groups of up to `live_cases` at once; the others (generate,
serve, --check-only, one pass) one after another, each in one go.
"""

from __future__ import annotations

import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from hwbench.analysis.noise import run_noise, unstable_reason
from hwbench.backends.peaks import PEAKS_DIR_ENV
from hwbench.case import Case
from hwbench.config import Suite
from hwbench.errors import SaveError
from hwbench.execution.interleave import OnCase, run_group
from hwbench.execution.plan import expand
from hwbench.labels import rate_text
from hwbench.registry import lookup
from hwbench.results import store
from hwbench.results.env import fingerprint
from hwbench.results.files import check_writable
from hwbench.results.logs import CASE_INDEX_ENV, LOG_DIR_ENV, log_dir
from hwbench.results.record import CaseRecord

# Cases kept loaded at once when interleaving, by size, unless the suite says (memory: a
# loaded tiny case took 70-85 MiB of its own on the 2-core VM, a full-size one a model's worth).
LIVE_CASES = {"tiny": 64, "small": 8, "full": 1}
# ... and on an accelerator at most this many, each a worker holding a device context and its
# device memory.
LIVE_ACCELERATOR_CASES = 8


def device_status(suite: Suite) -> dict[str, dict[str, Any]]:
    """Availability, reason and description of each device the suite names."""
    status: dict[str, dict[str, Any]] = {}
    for name in sorted({t.device for t in suite.targets}):
        device = lookup("devices", name)()
        ok, reason = device.available()
        status[name] = {
            "available": ok,
            "reason": reason,
            "info": device.info() if ok else {},
            "environment": device.environment() if ok else {},
        }
    return status


def skip_reason(case: Case, devices: dict[str, dict[str, Any]]) -> str | None:
    """Why `case` cannot run here without starting a worker, or None."""
    target = case.parsed_target
    status = devices[target.device]
    if not status["available"]:
        return f"device {target.device} unavailable: {status['reason']}"
    ok, reason = lookup("devices", target.device)().supports_dtype(target.dtype)
    return None if ok else reason


def run_suite(
    suite: Suite,
    out_dir: Path,
    machine: str,
    on_case: OnCase = lambda c, r, f: None,
) -> tuple[dict[str, Any], Path]:
    """Run every case of `suite`, saving the result file after each; returns it and its path.

    `on_case(case, None, fraction)` is called as a case (or a pass of it) starts and ends,
    with the fraction of it done, and `on_case(case, record, 1.0)` as it ends. On Ctrl-C the
    file keeps every finished case and KeyboardInterrupt propagates.
    """
    check_writable(out_dir / machine)
    cases = expand(suite)
    devices = device_status(suite)
    document = store.new_results(
        suite.name, machine, fingerprint(), {"suite": _suite_json(suite), "cases": len(cases)}
    )
    document["devices"] = devices
    path = store.save_new(document, store.result_path(out_dir, machine, suite.name))
    # Workers find the peaks `hwbench peak` stored beside this machine's results.
    env = {PEAKS_DIR_ENV: str(out_dir / machine), **os.environ}
    env[LOG_DIR_ENV] = str(log_dir(path))  # server logs, beside the result
    preload = worker_preload(suite)

    slots: list[CaseRecord | None] = [None] * len(cases)  # the file keeps the suite's order
    position = {id(case): index for index, case in enumerate(cases)}

    def finish(case: Case, record: CaseRecord) -> None:
        record = replace(record, unstable=unstable_reason(record))
        slots[position[id(case)]] = record
        document["cases"] = [r for r in slots if r is not None]
        save(document, path)
        on_case(case, record, 1.0)

    group: list[tuple[Case, dict[str, str]]] = []

    def flush() -> None:
        if group:
            run_group(group, suite.case_timeout_s, preload, suite.seed, finish, on_case)
            group.clear()

    for index, case in enumerate(cases):
        case_env = {**env, CASE_INDEX_ENV: str(index)}
        reason = skip_reason(case, devices)
        if reason:
            on_case(case, None, 0.0)
            finish(case, case.outcome("skipped", reason))
            continue
        if interleavable(case):
            if group and len(group) >= live_cases(suite, group[0][0], case):
                flush()
            group.append((case, case_env))
        else:  # measured alone, in one go
            flush()
            group.append((case, case_env))
            flush()
    flush()
    noise = run_noise(document["cases"])
    if noise is not None:
        document["noise"] = noise
        save(document, path)
    return document, path


class NotSaved(SaveError):
    """Saving failed mid-run (a full disk, a file size limit): the run stopped there;
    `document` holds every case finished, the last one only in memory."""

    def __init__(self, error: SaveError, document: dict[str, Any]) -> None:
        Exception.__init__(self, f"{error}; the run stopped, its finished cases are shown")
        self.path, self.document = error.path, document


def save(document: dict[str, Any], path: Path) -> None:
    """store.save, a failure raised as NotSaved with the document."""
    try:
        store.save(document, path)
    except SaveError as error:
        raise NotSaved(error, document) from None


def interleavable(case: Case) -> bool:
    """Whether `case` is timed in passes interleaved with others (see the module's note)."""
    sliced = lookup("scenarios", case.scenario).sliced
    return sliced and case.harness.passes > 1 and not case.check_only


def live_cases(suite: Suite, *cases: Case) -> int:
    """How many cases a group may hold: the suite's setting, else by the cases' size, and at
    most LIVE_ACCELERATOR_CASES when one runs on an accelerator."""
    if suite.live_cases:
        return suite.live_cases
    by_size = min(LIVE_CASES.get(c.size, 1) for c in cases)
    on_accelerator = any(c.parsed_target.device != "cpu" for c in cases)
    return min(by_size, LIVE_ACCELERATOR_CASES) if on_accelerator else by_size


def worker_preload(suite: Suite) -> tuple[str, ...]:
    """The modules the engines of `suite` want imported before their cases (no duplicates)."""
    engines = dict.fromkeys(t.engine for t in suite.targets)
    modules = (m for e in engines for m in lookup("engines", e).worker_preload)
    return tuple(dict.fromkeys(modules))


def _suite_json(suite: Suite) -> dict[str, Any]:
    data = asdict(suite)
    data["targets"] = [str(t) for t in suite.targets]
    data["request_rates"] = [rate_text(r) for r in suite.request_rates]  # JSON has no inf
    return data
