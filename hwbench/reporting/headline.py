"""The report's headline: for each workload and case, the fastest target and its speed-up over
the baseline (the comparison's first column), with the 95% interval and what undermines it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwbench.analysis.compare import Cell, Comparison
from hwbench.analysis.noise import within_floor
from hwbench.reporting.comparisons import Compared, Docs, short

HEADER = ("case", "fastest", "speed-up [95% CI]", "note")


@dataclass(frozen=True)
class Win:
    """A comparison row's fastest column; `speedup` is baseline time / its time (None when
    the baseline is the fastest or has no case in the row)."""

    case: str
    fastest: str
    baseline: str
    speedup: float | None
    interval: tuple[float, float] | None  # 95%, of the speed-up
    flags: tuple[str, ...]


def wins(comparison: Comparison, floor_pct: float | None = None) -> list[Win]:
    """The fastest column of each row (least median time), against the baseline column; rows
    with one cell compare nothing and are left out."""
    found = []
    for label, cells in comparison.rows:
        if sum(c is not None for c in cells) < 2:
            continue
        index, best = min(
            ((i, c) for i, c in enumerate(cells) if c is not None), key=lambda ic: ic[1].median_ms
        )
        speedup, interval = None, None
        if best.ratio is not None:
            low, high = best.ratio.interval(0.05)
            speedup, interval = 1 / best.ratio.estimate, (1 / high, 1 / low)
        flags = _flags(comparison.columns, cells, index, speedup, interval, floor_pct)
        found.append(
            Win(label, comparison.columns[index], comparison.baseline, speedup, interval, flags)
        )
    return found


def _flags(
    columns: list[str],
    cells: list[Cell | None],
    index: int,
    speedup: float | None,
    interval: tuple[float, float] | None,
    floor_pct: float | None,
) -> tuple[str, ...]:
    """What a reader must know before believing the win."""
    best, base = cells[index], cells[0]
    flags = [f"{best.dtype} vs {best.baseline_dtype}"] if best.across_precisions else []
    if base is None:
        flags.append(f"no {columns[0]} case to compare with")
    for column, cell in {columns[0]: base, columns[index]: best}.items():
        if cell is not None and cell.case.unstable:
            flags.append(f"{column} unstable: {cell.case.unstable}")
    if interval is not None and interval[0] <= 1:
        flags.append("interval includes 1: not a clear win")
    if speedup is not None and floor_pct is not None and within_floor(speedup, floor_pct):
        flags.append(f"below the run's noise floor ({floor_pct:.0f}%)")
    return tuple(flags)


def speedup_text(win: Win) -> str:
    if win.speedup is None:
        return "baseline is fastest" if win.fastest == win.baseline else "n/a"
    low, high = win.interval
    return f"{win.speedup:.3g}x [{low:.3g}, {high:.3g}]"


def headline_groups(found: list[Compared]) -> list[tuple[str, list[list[str]]]]:
    """Per workload, a title naming the baseline and HEADER's rows, a row per case; for a
    workload not compared, a title that says why and no row."""
    groups = []
    for item in found:
        if item.comparison is None:
            groups.append((f"{item.workload}: {item.note}", []))
            continue
        rows = [
            [short(w.case, item.workload), w.fastest, speedup_text(w), "; ".join(w.flags)]
            for w in wins(item.comparison, item.floor_pct)
        ]
        groups.append((f"{item.workload}, over the baseline {item.comparison.baseline}", rows))
    return groups


def noise_lines(documents: Docs) -> list[str]:
    """'file: differences below X% are not meaningful in this run', for runs that know it."""
    lines = []
    for name, document in documents:
        noise: dict[str, Any] = document.get("noise") or {}
        pct = noise.get("meaningful_pct")
        if pct is not None:
            text = (
                noise.get("note") or f"differences below {pct:.0f}% are not meaningful in this run"
            )
            lines.append(f"{name}: {text}")
    return lines
