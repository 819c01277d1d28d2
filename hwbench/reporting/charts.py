"""The report's chart sections: which cases go in which chart, and the HTML around each."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from hwbench.labels import target_label
from hwbench.reporting import plots
from hwbench.results.record import CaseRecord

Docs = list[tuple[str, dict[str, Any]]]  # (name, result document)
Cases = list[tuple[str, CaseRecord]]  # (source name, case)
MAX_CDF_LINES = 10
BY_SCENARIO = itemgetter("workload", "size", "scenario")
BY_RUNG = itemgetter("workload", "size", "scenario", "batch", "device")  # one ladder


def figure(uri: str, caption: str) -> str:
    alt = html.escape(caption)
    return f'<figure><img src="{uri}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def grouped(documents: Docs, by: Callable[[dict[str, Any]], Any]) -> dict[Any, Cases]:
    """The ok cases of all documents, grouped by `by(key)`, in file order."""
    groups: dict[Any, Cases] = defaultdict(list)
    for name, document in documents:
        for case in document["cases"]:
            if case.status == "ok":
                groups[by(case.key)].append((name, case))
    return groups


def arm_label(name: str, case: CaseRecord, documents: Docs) -> str:
    label = f"{target_label(case.key)} {case.key['dtype']}"
    return label if len(documents) == 1 else f"{name}: {label}"


def latency_cdfs(documents: Docs) -> str:
    parts = []
    for (workload, size, scenario), cases in grouped(documents, BY_SCENARIO).items():
        series = {
            f"{arm_label(n, c, documents)} b{c.key['batch']}": [s / 1e6 for s in c.samples_ns]
            for n, c in cases[:MAX_CDF_LINES]
        }
        title = f"{workload}/{size} {scenario}: latency CDF"
        parts.append(figure(plots.latency_cdf(title, series), title))
    return "".join(parts) or note("No ok cases: no latency to plot.")


def throughput(documents: Docs) -> str:
    parts = []
    for (workload, size, scenario), cases in grouped(documents, BY_SCENARIO).items():
        series: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for name, case in cases:
            if "throughput" in case.metrics:  # pytest-benchmark imports have none
                rate = case.metrics["throughput"]
                series[arm_label(name, case, documents)].append((case.key["batch"], rate))
        if any(len({batch for batch, _ in points}) > 1 for points in series.values()):
            title = f"{workload}/{size} {scenario}: throughput against batch size"
            parts.append(figure(plots.throughput_by_batch(title, series), title))
    return "".join(parts) or note("No case was run at more than one batch size.")


def roofline(documents: Docs) -> str:
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    peaks: dict[str, tuple] = {}
    for name, case in grouped(documents, lambda key: "all").get("all", []):
        roof = case.roofline or {}
        if roof.get("bytes_per_step") and roof.get("flops_per_s"):
            intensity = roof["flops_per_step"] / roof["bytes_per_step"]
            points[arm_label(name, case, documents)].append((intensity, roof["flops_per_s"]))
            peaks.update(plots.peaks_of(case))
    if not points:
        return note("No case has FLOP and byte counts: no roofline.")
    caption = "Roofline: achieved FLOP/s against FLOP per byte moved" + (
        "; dashed: roofs from the peaks in the results (a point above the memory roof read "
        "its bytes from cache, not memory)"
        if peaks
        else "; no peak rates recorded"
    )
    return figure(plots.roofline(points, peaks), caption)


def rung_of(case: CaseRecord) -> str | None:
    """A ladder rung's name: the record's `rung` (hwbench ladder), or a `rung` target option."""
    return case.details.get("rung") or (case.key.get("options") or {}).get("rung")


def ladder(documents: Docs) -> str:
    """A waterfall per ladder (same workload, size, scenario, batch and device), rungs in the
    order of the file's `ladder` list, else in file order; rungs that failed are left out."""
    order = {r: i for _, doc in documents for i, r in enumerate(doc.get("ladder") or [])}
    parts = []
    for (workload, size, scenario, batch, device), cases in grouped(documents, BY_RUNG).items():
        rungs = [(str(rung_of(c)), c.metrics["latency_ms"]["p50"]) for _, c in cases if rung_of(c)]
        rungs.sort(key=lambda rung: order.get(rung[0], len(order)))
        if len(rungs) > 1:
            title = f"{workload}/{size} {scenario} b{batch} on {device}: ladder"
            parts.append(figure(plots.waterfall(title, rungs), title))
    return "".join(parts) or note(
        "No ladder in these results (records with a `rung`, from `hwbench ladder`)."
    )


def charts(documents: Docs) -> str:
    """Every chart section, headed."""
    return (
        f"<h2>Latency distributions</h2>{latency_cdfs(documents)}"
        f"<h2>Throughput against batch size</h2>{throughput(documents)}"
        f"<h2>Roofline</h2>{roofline(documents)}"
        f"<h2>Optimization ladder</h2>{ladder(documents)}"
    )
