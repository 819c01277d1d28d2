"""A result document's blocks and cases checked before any reader touches them: a malformed
file is refused in one line naming the file and the field (`cases[3].metrics`), never read into
a traceback or a verdict. store.validate checks the header (schema, version, required fields)
first, then calls `check_body`."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Any

from hwbench.errors import UsageError
from hwbench.results.record import NOT_TIMED, STATUSES, Sampling, Timings

TEXT_FIELDS = ("suite", "machine", "created")
OBJECT_FIELDS = ("environment", "devices", "config")  # objects where present
CASE_OBJECTS = ("workload", "parity", "metrics", "session", "memory", "roofline", "energy")
CASE_TEXTS = ("reason", "unstable")
BLOCKS = {  # a case's blocks read into dataclasses: the fields each may hold
    "sampling": {f.name for f in fields(Sampling)},
    "timings": {f.name for f in fields(Timings)},
}
SAMPLING_LISTS = ("pass_starts", "pass_times")
KINDS = {dict: "an object", list: "a list", str: "text", int: "an integer"}
ABSENT = object()  # a field the document does not have: `.get(name, ABSENT)`


KEY_FIELDS = ("engine", "device", "scenario", "batch")


def describe(value: Any) -> str:
    """A JSON value as a message shows it: 5, null, the text '3', a list, an object."""
    if value is ABSENT:
        return "missing"
    if isinstance(value, dict | list):
        return KINDS[type(value)]
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return json.dumps(value)


def expect(value: Any, expected: type, where: str, origin: str) -> None:
    """UsageError unless `value` (the field `where` of `origin`) is of the `expected` type."""
    if isinstance(value, bool) or not isinstance(value, expected):
        raise UsageError(f"{origin}: {where} is {describe(value)}, not {KINDS[expected]}")


def optional(value: Any, expected: type, where: str, origin: str) -> None:
    """As `expect`, but null passes."""
    if value is not None:
        expect(value, expected, where, origin)


def bad_sample(samples: Any) -> Any:
    """The first entry of `samples` that is not a finite number above 0 (a time), else None;
    the list itself when it is not one."""
    if not isinstance(samples, list):
        return samples
    for value in samples:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            return value
    return None


def check_body(document: dict[str, Any], origin: str) -> None:
    """UsageError naming the first field of the document's blocks and cases that is wrong."""
    for name in TEXT_FIELDS:
        expect(document[name], str, name, origin)
    for name in OBJECT_FIELDS:
        if name in document:
            expect(document[name], dict, name, origin)
    for name, device in document.get("devices", {}).items():
        expect(device, dict, f"devices.{name}", origin)
    expect(document["cases"], list, "cases", origin)
    for index, case in enumerate(document["cases"]):
        check_case(case, f"cases[{index}]", origin)


def check_case(case: Any, where: str, origin: str) -> None:
    expect(case, dict, where, origin)
    missing = [name for name in ("key", "status") if name not in case]
    if missing:
        raise UsageError(f"{origin}: {where} lacks {', '.join(missing)}")
    expect(case["key"], dict, f"{where}.key", origin)
    check_key(case["key"], f"{where}.key", origin)
    if case["status"] not in STATUSES:
        raise UsageError(
            f"{origin}: {where}.status: unknown status {case['status']!r}; valid: "
            f"{', '.join(STATUSES)}"
        )
    for name in CASE_TEXTS:
        optional(case.get(name), str, f"{where}.{name}", origin)
    for name in CASE_OBJECTS:
        optional(case.get(name), dict, f"{where}.{name}", origin)
    for name, known in BLOCKS.items():
        check_block(case.get(name), known, f"{where}.{name}", origin)
    bad = bad_sample(case.get("samples_ns") or [])
    if bad is not None:
        raise UsageError(
            f"{origin}: {where}.samples_ns has a sample that is not a positive time: {bad!r}"
        )
    if case["status"] == "ok":
        check_timed(case, where, origin)


def check_key(key: dict[str, Any], where: str, origin: str) -> None:
    """A key names what every label is made of (hwbench/labels.py): the target, scenario and
    batch, and the workload and size (or, for a --model workload, its name)."""
    needed = [*KEY_FIELDS, *(() if key.get("model_name") else ("workload", "size"))]
    missing = [name for name in needed if name not in key]
    if missing:
        raise UsageError(f"{origin}: {where} lacks {', '.join(missing)}")


def check_block(block: Any, known: set[str], where: str, origin: str) -> None:
    optional(block, dict, where, origin)
    unknown = sorted((block or {}).keys() - known)
    if unknown:
        raise UsageError(f"{origin}: {where} has unknown field {unknown[0]!r}")
    for name in SAMPLING_LISTS:
        if name in known:
            optional((block or {}).get(name), list, f"{where}.{name}", origin)


def check_timed(case: dict[str, Any], where: str, origin: str) -> None:
    """An ok case holds a speed (metrics, their latency median, the samples they came from),
    unless it is parity-only (--check-only)."""
    metrics = case.get("metrics")
    if metrics is None:
        if case.get("reason") == NOT_TIMED:
            return
        raise UsageError(
            f"{origin}: {where} is ok but has no metrics (only a --check-only case, reason "
            f"{NOT_TIMED!r}, has none)"
        )
    latency = metrics.get("latency_ms", ABSENT)
    expect(latency, dict, f"{where}.metrics.latency_ms", origin)
    median = latency.get("p50", ABSENT)
    if bad_sample([median]) is not None:
        raise UsageError(
            f"{origin}: {where}.metrics.latency_ms.p50 is {describe(median)}, not a positive time"
        )
    if not case.get("samples_ns"):
        raise UsageError(
            f"{origin}: {where}.samples_ns is empty: an ok case with metrics holds the samples "
            "they came from"
        )
