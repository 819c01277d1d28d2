"""Case records for tests of the readers (compare, gate, export, report): one case key, and
records built the way a result file is read back."""

from __future__ import annotations

from typing import Any

from hwbench.results.record import CaseRecord

KEY = {
    "workload": "mlp",
    "size": "tiny",
    "engine": "torch",
    "device": "cpu",
    "dtype": "fp32",
    "options": {},
    "scenario": "latency",
    "batch": 1,
    "input_shapes": [[1, 256]],
}


def record(key: dict[str, Any] | None = None, **fields: Any) -> CaseRecord:
    """A record of `fields` (the result file's form) with KEY updated by `key`."""
    return CaseRecord.from_json({"status": "ok", **fields, "key": {**KEY, **(key or {})}})
