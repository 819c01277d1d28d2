"""The report's charts, drawn with matplotlib (Agg) and returned as inline PNG data URIs."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullLocator

from hwbench.results.record import CaseRecord

DPI = 96


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def latency_cdf(title: str, series: dict[str, Sequence[float]]) -> str:
    """Empirical CDF of per-step latency (ms) for each labelled sample set."""
    figure, axes = plt.subplots(figsize=(7, 3.6))
    for label, samples_ms in series.items():
        values = np.sort(np.asarray(samples_ms, dtype=float))
        axes.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=label)
    axes.set(xscale="log", xlabel="latency per step (ms, log scale)", ylabel="fraction <= x")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    return _png(figure)


def throughput_by_batch(title: str, series: dict[str, list[tuple[int, float]]]) -> str:
    """Samples/s against batch size, a line per labelled arm."""
    figure, axes = plt.subplots(figsize=(7, 3.6))
    for label, points in series.items():
        batches, rates = zip(*sorted(points), strict=True)
        axes.plot(batches, rates, marker="o", label=label)
    axes.set(xscale="log", yscale="log", xlabel="batch size", ylabel="samples/s")
    batches = sorted({batch for points in series.values() for batch, _ in points})
    axes.set_xticks(batches, [str(batch) for batch in batches])
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    return _png(figure)


def roofline(points: dict[str, list[tuple[float, float]]], peaks: dict[str, tuple]) -> str:
    """Achieved FLOP/s against arithmetic intensity (FLOP/byte), with any known roofs.

    `points`: label -> [(intensity, FLOP/s)]; `peaks`: label -> (FLOP/s, bytes/s)."""
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for label, xy in points.items():
        x, y = zip(*xy, strict=True)
        axes.scatter(x, y, label=label, zorder=3)
    every_x = [x for xy in points.values() for x, _ in xy]
    span = np.geomspace(min(every_x) / 4, max(every_x) * 4, 200)
    for label, (flops, moved) in peaks.items():
        axes.plot(span, np.minimum(flops, span * moved), linestyle="--", label=f"roof: {label}")
    axes.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP/byte)")
    axes.set(ylabel="achieved FLOP/s")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    return _png(figure)


def waterfall(title: str, rungs: list[tuple[str, float]]) -> str:
    """Median latency (ms) after each rung of a ladder, as steps from the first."""
    figure, axes = plt.subplots(figsize=(7, 3.6))
    previous = rungs[0][1]
    for index, (_, value) in enumerate(rungs):
        bottom, height = (0.0, value) if index == 0 else (previous, value - previous)
        color = "tab:gray" if index == 0 else ("tab:green" if height <= 0 else "tab:red")
        axes.bar(index, height, bottom=bottom, color=color)
        axes.annotate(f"{value:.3g}", (index, value), ha="center", va="bottom", fontsize="small")
        previous = value
    axes.set_xticks(range(len(rungs)), [label for label, _ in rungs], rotation=20, ha="right")
    axes.set(ylabel="median latency (ms)")
    axes.set_title(title)
    axes.grid(True, axis="y", alpha=0.3)
    return _png(figure)


def peaks_of(case: CaseRecord) -> dict[str, tuple[float, float]]:
    """Roofs the case's roofline block knows: its measured and datasheet peaks, if any."""
    found = {}
    for basis in ("measured", "datasheet"):
        peak = (case.roofline or {}).get(basis) or {}
        if peak.get("peak_flops_per_s") and peak.get("peak_bytes_per_s"):
            label = f"{case.key['device']} {case.key['dtype']} {basis}"
            found[label] = (peak["peak_flops_per_s"], peak["peak_bytes_per_s"])
    return found
