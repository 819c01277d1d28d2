"""The report's comparisons: `compare` run per workload, so that one workload measured on one
target only, or not comparable, leaves the others compared; and each comparison as a grid
of text cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwbench.analysis.compare import Cell, Comparison, compare
from hwbench.analysis.noise import noise_floor_pct
from hwbench.errors import UsageError
from hwbench.labels import workload_label
from hwbench.results.record import CaseRecord

Docs = list[tuple[str, dict[str, Any]]]  # (name, result document)
ONE_TARGET = "one target only: nothing to compare"
MAX_COLUMNS = 6  # data columns in one table; more are split into several tables


@dataclass(frozen=True)
class Compared:
    """One workload's comparison, or why there is none (`note`), and the noise floor (%) of
    the runs that measured it (None where none did)."""

    workload: str
    comparison: Comparison | None
    note: str = ""
    floor_pct: float | None = None


def by_workload(documents: Docs) -> dict[str, Docs]:
    """The documents once per workload with a timed case, each holding only its cases."""
    names = dict.fromkeys(
        workload_label(case.key) for _, doc in documents for case in doc["cases"] if case.timed
    )
    return {
        workload: [(name, {**doc, "cases": _cases_of(doc, workload)}) for name, doc in documents]
        for workload in names
    }


def _cases_of(document: dict[str, Any], workload: str) -> list[CaseRecord]:
    return [case for case in document["cases"] if workload_label(case.key) == workload]


def compared(documents: Docs, by: str) -> list[Compared]:
    """`compare(..., by)` for each workload; a note where it found nothing to compare."""
    found = []
    for workload, docs in by_workload(documents).items():
        floor = noise_floor_pct(doc for _, doc in docs if any(c.timed for c in doc["cases"]))
        try:
            found.append(Compared(workload, compare(docs, by=by), floor_pct=floor))
        except UsageError as error:
            # compare's words for a single column; any other refusal is shown as it is
            text = ONE_TARGET if "nothing to compare" in str(error) else f"not compared: {error}"
            found.append(Compared(workload, None, text, floor))
    return found


def dtypes_measured(documents: Docs) -> set[str]:
    return {case.key["dtype"] for _, doc in documents for case in doc["cases"] if case.timed}


def short(label: str, workload: str) -> str:
    """A case label without the workload its group is titled with."""
    return label.removeprefix(f"{workload} ")


def cell_lines(cell: Cell | None) -> list[str]:
    """A cell as lines: the median, its time ratio to the baseline with the 95% interval, and
    flags (another precision than the baseline's, with its parity; unstable)."""
    if cell is None:
        return ["-"]
    lines = [f"{cell.median_ms:.4g} ms"]
    if cell.ratio is not None:
        low, high = cell.ratio.interval(0.05)
        lines.append(f"x{cell.ratio.estimate:.3g} [{low:.3g}, {high:.3g}]")
    if cell.across_precisions:
        lines.append(f"{cell.dtype} vs {cell.baseline_dtype}, parity {cell.parity or 'n/a'}")
    if cell.case.unstable:
        lines.append("unstable")
    return lines


def compared_rows(comparison: Comparison) -> tuple[list[str], list[tuple[str, list]]]:
    """The columns and rows that compare something: rows with two cells or more, and the
    columns with a cell in them (the baseline always)."""
    rows = [
        (label, cells) for label, cells in comparison.rows if sum(c is not None for c in cells) > 1
    ]
    kept = [
        i for i in range(len(comparison.columns)) if i == 0 or any(cells[i] for _, cells in rows)
    ]
    columns = [comparison.columns[i] for i in kept]
    return columns, [(label, [cells[i] for i in kept]) for label, cells in rows]


def grids(comparison: Comparison, workload: str) -> list[tuple[list[str], list[list[list[str]]]]]:
    """The comparison of one workload as tables of (header, rows of cells as lines): rows down
    the page and columns across, turned when there are more columns than rows, split every
    MAX_COLUMNS columns (the label column repeated); row labels without the workload. Rows
    with a single cell, and columns left empty, are left out: they compare nothing."""
    columns, kept = compared_rows(comparison)
    labels = [short(label, workload) for label, _ in kept]
    cells = [cells for _, cells in kept]
    columns = [f"{columns[0]} (baseline)", *columns[1:]]
    corner, down, across = "case", labels, columns
    if len(across) > len(down):
        corner, down, across = comparison.by, columns, labels
        cells = [list(column) for column in zip(*cells, strict=True)]
    tables = []
    for start in range(0, len(across), MAX_COLUMNS):
        part = slice(start, start + MAX_COLUMNS)
        rows = [
            [[label], *map(cell_lines, row[part])] for label, row in zip(down, cells, strict=True)
        ]
        tables.append(([corner, *across[part]], rows))
    return tables


def sections(documents: Docs) -> list[tuple[str, list[Compared]]]:
    """The report's comparison sections: target against target, and precision against
    precision (where a workload ran at several) when more than one dtype was measured."""
    found = [("Target against target", compared(documents, "target"))]
    if len(dtypes_measured(documents)) > 1:
        by_dtype = [c for c in compared(documents, "dtype") if c.comparison is not None]
        found.append(("Precision against precision", by_dtype))
    return found
