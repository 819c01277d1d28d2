"""Runs a suite: each case in its own worker process with a timeout, results saved after each."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hwbench import results
from hwbench.case import Case, expand
from hwbench.config import Suite
from hwbench.env import fingerprint
from hwbench.errors import UsageError
from hwbench.llm_case import CASE_INDEX_ENV, LOG_DIR_ENV
from hwbench.peaks import PEAKS_DIR_ENV
from hwbench.registry import lookup
from hwbench.scenarios.serve import rate_text
from hwbench.worker_process import Timeout, run_worker

STDERR_TAIL = 600  # characters of a dead worker's stderr kept as its reason


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


def check_writable(directory: Path) -> None:
    """UsageError unless result files can be written under `directory`."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise UsageError(f"cannot write results to {directory}: {error.strerror}") from None


def skip_reason(case: Case, devices: dict[str, dict[str, Any]]) -> str | None:
    """Why `case` cannot run here without starting a worker, or None."""
    target = case.parsed_target
    status = devices[target.device]
    if not status["available"]:
        return f"device {target.device} unavailable: {status['reason']}"
    ok, reason = lookup("devices", target.device)().supports_dtype(target.dtype)
    return None if ok else reason


def run_in_worker(
    case: Case,
    timeout_s: float,
    env: dict[str, str] | None = None,
    preload: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The case's record from a worker process of its own; a crash or timeout is a failed case.
    `preload`: modules for the fork server to import, if this case starts it."""
    with tempfile.TemporaryDirectory(prefix="hwbench-case-") as tmp:
        case_file, record_file = Path(tmp, "case.json"), Path(tmp, "record.json")
        case_file.write_text(json.dumps(case.to_json()))
        stderr_path = Path(tmp, "stderr.txt")
        try:
            code = run_worker(
                case_file, record_file, stderr_path, env or dict(os.environ), timeout_s, preload
            )
        except Timeout:
            return failed(case, f"timed out after {timeout_s:g} s")
        if record_file.exists():
            return json.loads(record_file.read_text())
        tail = stderr_path.read_text()[-STDERR_TAIL:].strip() if stderr_path.exists() else ""
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return failed(case, f"worker {how}" + (f": {tail}" if tail else ""))


def failed(case: Case, reason: str) -> dict[str, Any]:
    return {"key": case.key(), "status": "failed", "reason": reason}


def skipped(case: Case, reason: str) -> dict[str, Any]:
    return {"key": case.key(), "status": "skipped", "reason": reason}


def run_suite(
    suite: Suite,
    out_dir: Path,
    machine: str,
    on_case: Callable[[Case, dict[str, Any] | None], None] = lambda c, r: None,
) -> tuple[dict[str, Any], Path]:
    """Run every case of `suite`, saving the result file after each; returns it and its path.

    `on_case(case, None)` is called as a case starts and `on_case(case, record)` as it ends.
    On Ctrl-C the file keeps every finished case and KeyboardInterrupt propagates.
    """
    check_writable(out_dir)
    cases = expand(suite)
    devices = device_status(suite)
    document = results.new_results(
        suite.name, machine, fingerprint(), {"suite": _suite_json(suite), "cases": len(cases)}
    )
    document["devices"] = devices
    path = results.result_path(out_dir, machine, suite.name)
    results.save(document, path)
    # Workers find the peaks `hwbench peak` stored beside this machine's results.
    env = {PEAKS_DIR_ENV: str(out_dir / machine), **os.environ}
    env[LOG_DIR_ENV] = str(path.with_name(path.stem + "-logs"))  # server logs, beside the result
    preload = worker_preload(suite)
    for index, case in enumerate(cases):
        on_case(case, None)
        reason = skip_reason(case, devices)
        case_env = {**env, CASE_INDEX_ENV: str(index)}
        record = (
            skipped(case, reason)
            if reason
            else run_in_worker(case, suite.case_timeout_s, case_env, preload)
        )
        document["cases"].append(record)
        results.save(document, path)
        on_case(case, record)
    return document, path


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
