"""The terminal table of a result document."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.table import Table

from hwbench.labels import case_label, target_label
from hwbench.reporting.vocabulary import styled
from hwbench.results.record import CaseRecord

COLUMNS = (
    "case",
    "target",
    "status",
    "median ms ±95% CI",
    "p90 ms",
    "samples/s",
    "GFLOP/s",
    "% of roof (bound)",
    "parity rel-L2",
    "stop / reason",
)


def _ms(value: float) -> str:
    return f"{value:.4g}"


def roofline_cell(roofline: dict[str, Any]) -> str:
    """% of the roof at this intensity and the bound, from the measured peak or the datasheet."""
    basis = roofline.get("bound_from")
    if basis is None:
        return "no peak known"
    return f"{roofline[basis]['pct_of_roof']:.3g}% {roofline['bound']} ({basis})"


def case_row(case: CaseRecord) -> list[str]:
    key, status = case.key, case.status
    head = [
        case_label(key),
        target_label(key),
        styled(status),
    ]
    if case.metrics is None:  # failed, skipped, or --check-only
        parity = (case.parity or {}).get("rel_l2")
        error = "" if parity is None else f"{parity:.1e}"
        return [*head, "", "", "", "", "", error, case.reason]
    latency = case.metrics["latency_ms"]
    half_ci = (latency["median_ci_high"] - latency["median_ci_low"]) / 2
    parity = case.parity["rel_l2"]
    roof = case.roofline
    return [
        *head,
        f"{_ms(latency['p50'])} ±{_ms(half_ci)}",
        _ms(latency["p90"]),
        f"{case.metrics['throughput']:.4g}",
        f"{roof['flops_per_s'] / 1e9:.3g}" if roof else "",
        roofline_cell(roof) if roof else "",
        f"{parity:.1e}",
        case.sampling.stop_reason,
    ]


def llm_cell(case: CaseRecord) -> str:
    """Median TTFT / TPOT of a generate or serve case."""
    llm = (case.metrics or {}).get("llm")
    return f"{_ms(llm['median_ttft_ms'])} / {_ms(llm['median_tpot_ms'])}" if llm else ""


def results_table(document: dict[str, Any]) -> Table:
    """One row per case that ran: median latency with its 95% CI, p90, throughput, parity.
    Cases skipped because a device is unavailable are summed up in the caption."""
    table = Table(title=f"hwbench {document['suite']} on {document['machine']}")
    # generate / serve cases add a TTFT / TPOT column after the throughput (then tokens/s)
    llm = any(llm_cell(case) for case in document["cases"])
    at = COLUMNS.index("samples/s") + 1
    columns = [*COLUMNS[:at], "TTFT / TPOT ms", *COLUMNS[at:]] if llm else list(COLUMNS)
    if llm:
        columns[at - 1] = "samples/s or tokens/s"
    for column in columns:
        table.add_column(column, overflow="fold")
    unavailable: Counter[str] = Counter()
    for case in document["cases"]:
        device = case.key["device"]
        if case.status == "skipped" and not document["devices"][device]["available"]:
            unavailable[device] += 1
            continue
        row = case_row(case)
        table.add_row(*([*row[:at], llm_cell(case), *row[at:]] if llm else row))
    table.caption = (
        "; ".join(
            f"{n} case(s) skipped on {device}: {document['devices'][device]['reason']}"
            for device, n in unavailable.items()
        )
        or None
    )
    return table
