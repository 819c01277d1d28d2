"""The port document's name and version (read without torch: `hwbench report` takes it).

Version 1: {schema, schema_version, machine, created, environment {hwbench, torch, python},
workload {workload, size, model_path, model_name, dtype, batch, flops (the workload's own
count)}, op_list {version, source} or null, missing (how to get a list, when none was found)
or null, counts {verdict: operators}, totals {flops, bytes}, ops [{op, verdict, path, calls,
flops, bytes, flop_share, byte_share, callers, dtypes}], fused [{pattern, calls, operators
{name: listed or null}, rungs, kernels, note}], dtype_notes [{chips, text, source}], edges
[text], compare null or {a, b: {version, source, counts}, changed [{op, a, b}], operators
[{operator, a, b}]}}.
"""

from __future__ import annotations

from typing import Any

PORT_SCHEMA = "hwbench-port"
PORT_SCHEMA_VERSION = 1


def is_port(data: Any) -> bool:
    """Whether parsed JSON is a port document this version reads."""
    return (
        isinstance(data, dict)
        and data.get("schema") == PORT_SCHEMA
        and data.get("schema_version") == PORT_SCHEMA_VERSION
    )
