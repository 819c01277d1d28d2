"""The report's charts, drawn with matplotlib (Agg) and returned as inline PNG data URIs.
Legends sit below the axes, never on the curves; callers pass at most MAX_SERIES series."""

from __future__ import annotations

import base64
import io
import itertools
import math
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.ticker import FuncFormatter, NullLocator

DPI = 96
SIZE = (6.0, 3.0)  # inches, before the legend below the axes adds LEGEND_ROW a row
LEGEND_ROW = 0.2
MAX_SERIES = 6
WIDE_LABEL = 34  # characters; legends with a longer label get one column
LONG_LABEL = 64  # characters; longer legend labels are wrapped
# a colour family per dtype: its roofs in one shade, its points in several
FAMILIES = {"fp32": "Blues", "bf16": "Oranges", "fp16": "Greens", "tf32": "Purples",
            "int8": "Reds", "fp8": "RdPu"}  # fmt: skip
OTHER_FAMILIES = ("Greys", "YlGn", "BuPu", "copper")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
BASIS_LINES = {"measured": "--", "datasheet": ":"}
Roofs = dict[tuple[str, str], tuple[float, float]]  # (dtype, basis) -> (FLOP/s, bytes/s)


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(height: float = SIZE[1]) -> tuple[plt.Figure, Axes]:
    return plt.subplots(figsize=(SIZE[0], height), layout="constrained")


def _legend_below(figure: plt.Figure, axes: Axes) -> None:
    """The legend under the axes, the figure taller by its rows so the axes keep their size."""
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        columns = 1 if max(map(len, labels)) > WIDE_LABEL else 2
        labels = [wrapped(label) for label in labels]
        figure.legend(handles, labels, loc="outside lower center", ncols=columns,
                      fontsize="small", frameon=False)  # fmt: skip
        rows = sum(label.count("\n") + 1 for label in labels) / columns
        figure.set_figheight(SIZE[1] + LEGEND_ROW * math.ceil(rows))


def wrapped(label: str, width: int = LONG_LABEL) -> str:
    """`label` over several lines, broken after spaces and commas, none much over `width`."""
    lines = [""]
    for piece in re.split(r"(?<=[ ,])", label):
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(line.rstrip() for line in lines)


def plain_log_ticks(axis: Axis, low: float, high: float) -> None:
    """A log axis labelled 0.6, 2, 300 rather than 6x10^-1; the 2s, 3s and 5s of each decade
    labelled too when the data from `low` to `high` spans less than two decades."""
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    few = high < 100 * low

    def minor(value: float, _: int) -> str:
        mantissa = round(value / 10 ** math.floor(math.log10(value)))
        return f"{value:g}" if few and mantissa in (2, 3, 5) else ""

    axis.set_minor_formatter(FuncFormatter(minor))


def family(dtype: str) -> matplotlib.colors.Colormap:
    name = FAMILIES.get(dtype) or OTHER_FAMILIES[sum(map(ord, dtype)) % len(OTHER_FAMILIES)]
    return matplotlib.colormaps[name]


def shades(dtype: str, count: int) -> list[tuple[float, ...]]:
    """`count` distinguishable colours of the dtype's family, dark to light."""
    return [family(dtype)(level) for level in np.linspace(0.95, 0.45, count)]


def latency_cdf(title: str, series: dict[str, Sequence[float]]) -> str:
    """Empirical CDF of per-step latency (ms) for each labelled sample set."""
    figure, axes = _figure()
    for label, samples_ms in series.items():
        values = np.sort(np.asarray(samples_ms, dtype=float))
        axes.step(values, np.arange(1, len(values) + 1) / len(values), where="post", label=label)
    axes.set(xscale="log", xlabel="latency per step (ms, log scale)", ylabel="fraction <= x")
    every = [value for samples in series.values() for value in samples]
    plain_log_ticks(axes.xaxis, min(every), max(every))
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    _legend_below(figure, axes)
    return _png(figure)


def throughput_by_batch(title: str, series: dict[str, list[tuple[int, float]]]) -> str:
    """Samples/s against batch size, a line per labelled target."""
    figure, axes = _figure()
    for label, points in series.items():
        batches, rates = zip(*sorted(points), strict=True)
        axes.plot(batches, rates, marker="o", label=label)
    axes.set(xscale="log", yscale="log", xlabel="batch size", ylabel="samples/s")
    batches = sorted({batch for points in series.values() for batch, _ in points})
    axes.set_xticks(batches, [str(batch) for batch in batches])
    axes.xaxis.set_minor_locator(NullLocator())
    every = [rate for points in series.values() for _, rate in points]
    plain_log_ticks(axes.yaxis, min(every), max(every))
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    _legend_below(figure, axes)
    return _png(figure)


def roofline(
    title: str, points: dict[str, tuple[str, list[tuple[float, float]]]], roofs: Roofs
) -> str:
    """Achieved FLOP/s against arithmetic intensity (FLOP/byte), coloured by dtype, under the
    roof of each (dtype, basis): the bandwidth slope up to the ridge, then that dtype's flat
    compute ceiling. `points`: label -> (dtype, [(intensity, FLOP/s)])."""
    figure, axes = _figure()
    dtypes = [dtype for dtype, _ in points.values()]
    colors = {d: iter(shades(d, dtypes.count(d))) for d in dtypes}
    for (label, (dtype, xy)), marker in zip(points.items(), itertools.cycle(MARKERS)):
        x, y = zip(*xy, strict=True)
        axes.scatter(x, y, label=label, color=next(colors[dtype]), marker=marker, zorder=3)
    span = _span([x for _, xy in points.values() for x, _ in xy], roofs)
    for (dtype, basis), (flops, moved) in roofs.items():
        style = {"color": family(dtype)(0.8), "linestyle": BASIS_LINES.get(basis, "-.")}
        label = _roof_label(dtype, basis, flops, moved)
        axes.plot(span, np.minimum(flops, span * moved), label=label, **style)
    axes.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP/byte)")
    axes.set(ylabel="achieved FLOP/s")
    plain_log_ticks(axes.xaxis, span[0], span[-1])
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    _legend_below(figure, axes)
    return _png(figure)


def _span(intensities: list[float], roofs: Roofs) -> np.ndarray:
    """Intensities to draw roofs over: the points' and every ridge, with room either side."""
    every = [*intensities, *(flops / moved for flops, moved in roofs.values())]
    return np.geomspace(min(every) / 4, max(every) * 4, 200)


def _roof_label(dtype: str, basis: str, flops: float, moved: float) -> str:
    return f"roof {dtype} {basis}: {flops / 1e12:.3g} TFLOP/s, {moved / 1e9:.4g} GB/s"


def waterfall(title: str, rungs: list[tuple[str, float]]) -> str:
    """Median latency (ms) after each rung of a ladder, as steps from the first."""
    figure, axes = _figure(SIZE[1] * 1.3)
    previous = rungs[0][1]
    for index, (_, value) in enumerate(rungs):
        bottom, height = (0.0, value) if index == 0 else (previous, value - previous)
        color = "tab:gray" if index == 0 else ("tab:green" if height <= 0 else "tab:red")
        axes.bar(index, height, bottom=bottom, color=color)
        axes.annotate(f"{value:.3g}", (index, value), ha="center", va="bottom", fontsize="small")
        previous = value
    axes.set_xticks(range(len(rungs)), [label for label, _ in rungs], rotation=20, ha="right")
    axes.set(ylabel="median latency (ms)")
    # room for the labels above the bars (a falling bar's top is sticky: no autoscale margin)
    axes.set_ylim(0, max(value for _, value in rungs) * 1.12)
    axes.set_title(title)
    axes.grid(True, axis="y", alpha=0.3)
    return _png(figure)
