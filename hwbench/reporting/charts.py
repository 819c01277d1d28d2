"""The report's chart sections: which cases go in which chart, and the HTML around each. A
chart holds at most plots.MAX_SERIES series; more are split over several charts."""

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from hwbench.labels import case_label, llm_suffix, target_label, workload_label
from hwbench.reporting import plots
from hwbench.results.record import CaseRecord

Docs = list[tuple[str, dict[str, Any]]]  # (name, result document)
Placed = tuple[str, str, CaseRecord]  # (file name, machine, case)
BY_RUNG = itemgetter("workload", "size", "scenario", "batch", "device")  # one ladder
ROOF_NOTE = (
    "; dashed: roofs from measured peaks, dotted: from datasheets, a colour per dtype (a point "
    "above the memory slope read its bytes from cache, not memory)"
)


def figure(uri: str, caption: str) -> str:
    alt = html.escape(caption)
    return f'<figure><img src="{uri}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def grouped(documents: Docs, by: Callable[[str, CaseRecord], Any]) -> dict[Any, list[Placed]]:
    """The timed cases of all documents, grouped by `by(machine, case)`, in file order."""
    groups: dict[Any, list[Placed]] = defaultdict(list)
    for name, document in documents:
        machine = str(document.get("machine", ""))
        for case in document["cases"]:
            if case.timed:
                groups[by(machine, case)].append((name, machine, case))
    return groups


@dataclass(frozen=True)
class Naming:
    """What a series label must add to the target to be unique, as compare's columns do: the
    machine when there are several, the file when a target ran in several files of one."""

    machines: bool
    runs: bool

    def label(self, item: Placed) -> str:
        name, machine, case = item
        where = f"{machine}: " if self.machines else ""
        return f"{name} " * self.runs + where + target_label(case.key)


def naming(placed: list[Placed]) -> Naming:
    """How to label the series of a chart of these cases."""
    files: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name, machine, case in placed:
        files[machine, target_label(case.key)].add(name)
    machines = len({machine for _, machine, _ in placed}) > 1
    return Naming(machines, any(len(names) > 1 for names in files.values()))


def split(title: str, series: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """`series` in parts of at most MAX_SERIES, as even as can be, titled '(1/2)', '(2/2)'
    when more than one."""
    items = list(series.items())
    charts = math.ceil(len(items) / plots.MAX_SERIES) or 1
    size = math.ceil(len(items) / charts) or 1
    parts = [dict(items[i : i + size]) for i in range(0, len(items), size)]
    if len(parts) == 1:
        return [(title, parts[0])]
    return [(f"{title} ({i}/{len(parts)})", part) for i, part in enumerate(parts, 1)]


def latency_cdfs(documents: Docs) -> str:
    """A CDF per case (workload, scenario, batch), a line per target."""
    parts = []
    for label, cases in grouped(documents, lambda m, c: case_label(c.key)).items():
        names, series = naming(cases), {}
        for item in cases:
            if item[2].samples_ns:
                series.setdefault(names.label(item), [s / 1e6 for s in item[2].samples_ns])
        for title, part in split(f"{label}: latency CDF", series):
            parts.append(figure(plots.latency_cdf(title, part), title))
    return "".join(parts) or note("No timed case: no latency to plot.")


def _scenario(machine: str, case: CaseRecord) -> tuple[str, str, str]:
    return workload_label(case.key), case.key["scenario"], llm_suffix(case.key)


def throughput(documents: Docs) -> str:
    """Samples/s against batch size per workload and scenario, a line per target."""
    parts = []
    for (workload, scenario, suffix), cases in grouped(documents, _scenario).items():
        names, series = naming(cases), defaultdict(list)
        for item in cases:
            metrics, batch = item[2].metrics, item[2].key["batch"]
            if "throughput" in metrics:  # pytest-benchmark imports have none
                series[names.label(item)].append((batch, metrics["throughput"]))
        if any(len({batch for batch, _ in points}) > 1 for points in series.values()):
            title = f"{workload} {scenario}{suffix}: throughput against batch size"
            for part_title, part in split(title, series):
                parts.append(figure(plots.throughput_by_batch(part_title, part), part_title))
    return "".join(parts) or note("No case was run at more than one batch size.")


def roof_of(case: CaseRecord) -> plots.Roofs:
    """The roofs the case's roofline block knows at its dtype: measured, datasheet, or none."""
    found = {}
    for basis in ("measured", "datasheet"):
        peak = (case.roofline or {}).get(basis) or {}
        if peak.get("peak_flops_per_s") and peak.get("peak_bytes_per_s"):
            found[case.key["dtype"], basis] = (peak["peak_flops_per_s"], peak["peak_bytes_per_s"])
    return found


def roof_points(cases: list[Placed]) -> tuple[dict[str, Any], plots.Roofs]:
    """Cases with FLOP and byte counts as label -> (dtype, [(intensity, FLOP/s)]), and the
    first peak found for each (dtype, basis)."""
    names = naming(cases)
    points: dict[str, tuple[str, list[tuple[float, float]]]] = {}
    roofs: plots.Roofs = {}
    for item in cases:
        case = item[2]
        roof = case.roofline or {}
        if roof.get("bytes_per_step") and roof.get("flops_per_s"):
            xy = (roof["flops_per_step"] / roof["bytes_per_step"], roof["flops_per_s"])
            points.setdefault(names.label(item), (case.key["dtype"], []))[1].append(xy)
            roofs = {**roof_of(case), **roofs}
    return points, roofs


def roofline(documents: Docs) -> str:
    """A roofline per machine and device, points coloured by dtype under their dtype's roofs."""
    by_device = grouped(documents, lambda machine, case: (machine, case.key["device"]))
    several = len({machine for machine, _ in by_device}) > 1
    parts = []
    for (machine, device), cases in by_device.items():
        points, roofs = roof_points(cases)
        title = f"Roofline: {device}" + (f" on {machine}" if several else "")
        for part_title, part in split(title, points):
            dtypes = {dtype for dtype, _ in part.values()}
            shown = {k: v for k, v in roofs.items() if k[0] in dtypes}
            caption = f"{part_title}: achieved FLOP/s against FLOP per byte moved" + (
                ROOF_NOTE if shown else "; no peak rates recorded (hwbench peak measures them)"
            )
            parts.append(figure(plots.roofline(part_title, part, shown), caption))
    return "".join(parts) or note("No case has FLOP and byte counts: no roofline.")


def rung_of(case: CaseRecord) -> str | None:
    """A ladder rung's name: the record's `rung` (hwbench ladder), or a `rung` target option."""
    return case.details.get("rung") or (case.key.get("options") or {}).get("rung")


def ladder(documents: Docs) -> str:
    """A waterfall per ladder (same workload, size, scenario, batch and device), rungs in the
    order of the file's `ladder` list, else in file order; rungs that failed are left out."""
    order = {r: i for _, doc in documents for i, r in enumerate(doc.get("ladder") or [])}
    parts = []
    ladders = grouped(documents, lambda machine, case: BY_RUNG(case.key))
    for (workload, size, scenario, batch, device), cases in ladders.items():
        rungs = [
            (str(rung_of(c)), c.metrics["latency_ms"]["p50"]) for _, _, c in cases if rung_of(c)
        ]
        rungs.sort(key=lambda rung: order.get(rung[0], len(order)))
        if len(rungs) > 1:
            title = f"{workload}/{size} {scenario} b{batch} on {device}: ladder"
            parts.append(figure(plots.waterfall(title, rungs), title))
    return "".join(parts) or note(
        "No ladder in these results (records with a `rung`, from `hwbench ladder`)."
    )


CHARTS = (
    ("Latency distributions", latency_cdfs),
    ("Throughput against batch size", throughput),
    ("Roofline", roofline),
    ("Optimization ladder", ladder),
)


def charts(documents: Docs) -> str:
    """Every chart section, headed."""
    return "".join(
        f'<h2>{title}</h2><div class="charts">{draw(documents)}</div>' for title, draw in CHARTS
    )
