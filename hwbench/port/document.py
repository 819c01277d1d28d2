"""The saved result of `hwbench port`: one document, built here and nowhere else (its
versions: schema.py)."""

from __future__ import annotations

import platform
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import torch

from hwbench import __version__
from hwbench.port.classify import Classified, OpRow, classify
from hwbench.port.dtype_notes import notes
from hwbench.port.fused import Suggestion, suggest
from hwbench.port.oplist import OpList
from hwbench.port.record import Call
from hwbench.port.schema import PORT_SCHEMA, PORT_SCHEMA_VERSION

EDGES = (
    "a listed kernel says torch_npu has one, not how fast it runs: time it on an NPU "
    "(hwbench ladder --device npu, hwbench kernels --device npu)",
    "shapes and dtypes a kernel rejects at run time cannot be seen here: such a call may "
    "still fall back to the CPU or fail on the NPU",
)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def op_row(row: OpRow, classified: Classified) -> dict[str, Any]:
    return {
        "op": row.op,
        "verdict": row.verdict,
        "path": row.path,
        "calls": row.calls,
        "flops": row.flops,
        "bytes": row.bytes,
        "flop_share": _share(row.flops, classified.flops),
        "byte_share": _share(row.bytes, classified.bytes),
        "callers": sorted(row.callers),
        "dtypes": sorted(row.dtypes),
    }


def suggestion(found: Suggestion) -> dict[str, Any]:
    return {**asdict(found), "rungs": list(found.rungs), "kernels": list(found.kernels)}


def listed(oplist: OpList | None) -> dict[str, str] | None:
    return None if oplist is None else {"version": oplist.version, "source": oplist.source}


def build(
    workload: dict[str, Any],
    calls: list[Call],
    oplist: OpList | None,
    machine: str,
    missing: str | None = None,
) -> dict[str, Any]:
    """The document for `calls` of `workload` ({name, size, model_path, dtype, batch, flops})
    classified against `oplist`; `missing` says how to get a list when there is none."""
    classified = classify(calls, oplist)
    return {
        "schema": PORT_SCHEMA,
        "schema_version": PORT_SCHEMA_VERSION,
        "machine": machine,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": {
            "hwbench": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "workload": workload,
        "op_list": listed(oplist),
        "missing": missing,
        "counts": classified.counts() if oplist else {},
        "totals": {"flops": classified.flops, "bytes": classified.bytes},
        "ops": [op_row(row, classified) for row in classified.rows],
        "fused": [suggestion(found) for found in suggest(calls, oplist)],
        "dtype_notes": [asdict(n) for n in notes(workload["dtype"], _keys(calls))],
        "edges": list(EDGES),
        "compare": None,
    }


def _keys(calls: list[Call]) -> set[str]:
    found: set[str] = set()
    for call in calls:
        found |= {call.key} | _keys(call.children)
    return found


def compare(calls: list[Call], a: OpList, b: OpList) -> dict[str, Any]:
    """What changed for this model between two torch_npu lists: each operator whose verdict
    differs ("-": not reached, its caller has a kernel there) and each fused operator one
    list has and the other lacks."""
    ca, cb = classify(calls, a), classify(calls, b)
    by_a, by_b = ({r.op: r for r in c.rows} for c in (ca, cb))

    def state(row: OpRow | None) -> str:
        return "-" if row is None else f"{row.verdict} ({row.path})" if row.path else row.verdict

    changed = [
        {"op": op, "a": state(by_a.get(op)), "b": state(by_b.get(op))}
        for op in sorted(by_a.keys() | by_b.keys())
        if getattr(by_a.get(op), "verdict", None) != getattr(by_b.get(op), "verdict", None)
    ]
    operators = [
        {"operator": op, "a": a.has_name(op), "b": b.has_name(op)}
        for found in suggest(calls, None)
        for op in found.operators
        if a.has_name(op) != b.has_name(op)
    ]
    side = {"a": (a, ca), "b": (b, cb)}
    return {
        **{k: {**(listed(o) or {}), "counts": c.counts()} for k, (o, c) in side.items()},
        "changed": changed,
        "operators": operators,
    }
