"""The report's section for MLPerf LoadGen cases: per case, what LoadGen judged (VALID, or
INVALID with its reason and no figure), the scenario's own figure, its percentiles and rates,
and links to LoadGen's summary and detail logs; each scenario's metric in one line."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hwbench.labels import case_label, target_label
from hwbench.loadgen.summary import figure_text
from hwbench.reporting.table import number
from hwbench.results.record import CaseRecord

# MLPerf Inference rules, "Scenarios" (docs.mlcommons.org/inference and the rules' repository).
SCENARIO_METRICS = {
    "SingleStream": "one sample per query, the next issued when the last completes; metric: "
    "the 90th percentile latency.",
    "MultiStream": "8 samples per query (by default), the next issued when the last completes; "
    "metric: the 99th percentile latency of whole queries.",
    "Server": "one sample per query at Poisson arrivals of the target QPS; VALID only if the "
    "99th percentile latency is within the bound (100 ms unless set); metric: the QPS held.",
    "Offline": "every sample in one query at once; metric: samples per second.",
    "Server, token latencies": "(loadgen-server-tokens, a serving engine) each query a "
    "streamed prompt; VALID only if the 99th percentile time to first token and time per "
    "output token are within their bounds (100 ms each unless set); metric: the QPS held.",
}
HEADER = (
    "case", "target", "LoadGen", "figure", "p90 ms", "p99 ms", "QPS", "samples/s", "why",
    "logs",
)  # fmt: skip
LOGS = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")


def loadgen_cases(document: dict[str, Any]) -> list[CaseRecord]:
    return [c for c in document["cases"] if "loadgen" in c.details or "loadgen_logs" in c.details]


def row(case: CaseRecord) -> str:
    judged = case.details.get("loadgen") or {}
    valid = judged.get("result") == "VALID"
    shown = {k: judged.get(k) if valid else None for k in ("p90_ms", "p99_ms", "qps")}
    verdict = judged.get("result") or case.status
    why = judged.get("reason") or ("" if valid else case.reason)
    cells = [
        html.escape(case_label(case.key)),
        html.escape(target_label(case.key)),
        f'<span class="{"ok" if valid else "failed"}">{html.escape(verdict)}</span>',
        html.escape(figure_text(judged)),
        *(number(shown[k], ".4g") for k in ("p90_ms", "p99_ms", "qps")),
        number(judged.get("samples_per_s") if valid else None, ".4g"),
        html.escape(why),
        links(case.details.get("loadgen_logs")),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def links(folder: str | None) -> str:
    """Links to LoadGen's logs (file URIs: the logs stay beside the result file)."""
    if not folder:
        return ""
    found = [Path(folder) / name for name in LOGS if (Path(folder) / name).is_file()]
    if not found:
        return html.escape(f"{folder} (not found here)")
    return " ".join(
        f'<a href="{html.escape(p.resolve().as_uri())}">{html.escape(p.stem.split("_")[-1])}</a>'
        for p in found
    )


def _table(rows: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def loadgen_html(documents: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The section, or nothing when no document has a LoadGen case."""
    tables = [
        f"<h3>{html.escape(name)}</h3>" + _table([row(c) for c in cases])
        for name, document in documents
        if (cases := loadgen_cases(document))
    ]
    if not tables:
        return ""
    metrics = "".join(
        f"<dt>{name}</dt><dd>{html.escape(text)}</dd>" for name, text in SCENARIO_METRICS.items()
    )
    return (
        "<h2>MLPerf LoadGen</h2>"
        + '<p class="note">Run by the official LoadGen (mlcommons-loadgen); a figure is shown '
        "only for a run LoadGen judged VALID whose every sample passed parity in its "
        "AccuracyOnly run.</p>" + "".join(tables) + f"<dl>{metrics}</dl>"
    )
