"""The report's details: every case of a result file as a row (cases skipped for want of a
device summed up in a line instead)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hwbench.labels import case_label, target_label
from hwbench.reporting import endpoint_lines, energy_cells
from hwbench.reporting.table import llm_cell, median_cell, note, number, roofline_cell
from hwbench.results.record import CaseRecord

HEADER = (
    "case", "target", "status", "median ms [95% CI]", "p90 ms", "p99 ms", "samples/s",
    "GFLOP/s", "GB/s", "% of roof (bound)", "parity rel-L2", "note",
)  # fmt: skip
LLM = "TTFT / TPOT ms"
ENERGY = "energy (J per unit; units per J)"


def case_row(case: CaseRecord, llm: bool = False, energy: bool = False) -> list[str]:
    """HEADER's cells of a case (with LLM's after samples/s when `llm`, ENERGY's before the
    parity when `energy`); the speed columns empty for a case without a speed (failed,
    skipped, or parity-checked only)."""
    row = _case_row(case, llm)
    if energy:
        cell = energy_cells.joules_cell(case.energy)
        efficiency = energy_cells.efficiency_cell(case.energy)
        row.insert(len(row) - 2, f"{cell}; {efficiency}" if efficiency else cell)
    return row


def _case_row(case: CaseRecord, llm: bool) -> list[str]:
    status = case.status + (" unstable" if case.unstable else "")
    head = [case_label(case.key), target_label(case.key), status]
    tail = [endpoint_lines.parity_cell(case.parity), note(case)]
    if not case.timed:
        return [*head, *[""] * (8 if llm else 7), *tail]
    latency, roof = case.metrics["latency_ms"], case.roofline or {}
    speed = [
        median_cell(latency),
        number(latency.get("p90"), ".4g"),
        number(latency.get("p99"), ".4g"),
        number(case.metrics.get("throughput"), ".4g"),
        *([llm_cell(case)] if llm else []),
        number(roof.get("flops_per_s"), ".4g", 1e9) if roof else "",
        number(roof.get("bytes_per_s"), ".4g", 1e9) if roof else "",
        roofline_cell(roof) if roof else "",
    ]
    return [*head, *speed, *tail]


def unavailable(case: CaseRecord, document: dict[str, Any]) -> bool:
    """A case skipped because its device is not there."""
    state = (document.get("devices") or {}).get(case.key["device"]) or {}
    return case.status == "skipped" and not state.get("available", True)


def file_table(document: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str]]:
    """A document's header, a row per case, and a line per device its skipped cases lacked."""
    llm = any(llm_cell(case) for case in document["cases"])
    header = [*HEADER[:7], LLM, *HEADER[7:]] if llm else list(HEADER)
    energy = energy_cells.any_energy(document["cases"])
    if energy:
        header.insert(len(header) - 2, ENERGY)
    rows, missing = [], Counter()
    for case in document["cases"]:
        if unavailable(case, document):
            missing[case.key["device"]] += 1
        else:
            rows.append(case_row(case, llm, energy))
    devices = document.get("devices") or {}
    lines = [f"{n} case(s) skipped on {d}: {devices[d].get('reason')}" for d, n in missing.items()]
    lines += endpoint_lines.server_lines(document["cases"])
    lines += endpoint_lines.parity_lines(document["cases"])
    return header, rows, lines + energy_cells.missing_lines(document["cases"])
