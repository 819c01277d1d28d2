"""`hwbench compare`: result files side by side along one axis, median ratios with CIs."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from hwbench.analysis.compare import AXES, Cell, Comparison, compare
from hwbench.analysis.noise import noise_floor_pct, within_floor
from hwbench.commands.output import stdout_console
from hwbench.errors import UsageError
from hwbench.reporting.energy_cells import efficiency_cell, joules_cell
from hwbench.reporting.inputs import read_inputs
from hwbench.reporting.vocabulary import markdown_table
from hwbench.results import files


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    compare_parser = subparsers.add_parser(
        "compare",
        help="side by side: every target (or dtype, machine, run) against the first, median "
        "ratios with CIs",
    )
    compare_parser.add_argument(
        "files", nargs="+", type=Path, help="result or pytest-benchmark files, folders or globs"
    )
    compare_parser.add_argument(
        "--by",
        choices=AXES,
        default="target",
        help="what the columns differ in (target: engine, device, dtype, options, machine)",
    )
    compare_parser.add_argument("--baseline", metavar="COLUMN", help="the column to divide by")
    compare_parser.add_argument("--confidence", type=float, default=0.95, help="CI level (0.95)")
    compare_parser.add_argument("--markdown", type=Path, help="write the table as Markdown here")


def cell_lines(cell: Cell | None, alpha: float, floor_pct: float | None) -> list[str]:
    """A cell's text, one fact a line: median and CI or ratio and CI, then dtype and parity,
    then what to distrust."""
    if cell is None:
        return ["-"]
    latency = cell.case.metrics["latency_ms"]
    low_ms, high_ms = latency.get("median_ci_low"), latency.get("median_ci_high")
    first = f"{cell.median_ms:.4g} ms"
    if cell.ratio is None:
        if low_ms is not None and high_ms is not None:
            first += f" [{low_ms:.4g}, {high_ms:.4g}]"
    else:
        low, high = cell.ratio.interval(alpha)
        first += f" x{cell.ratio.estimate:.3f} [{low:.3f}, {high:.3f}]"
    precision = cell.dtype + (f" vs {cell.baseline_dtype}" if cell.across_precisions else "")
    lines = [first, f"{precision}, parity {cell.parity}" if cell.parity else precision]
    if efficiency := efficiency_cell(cell.case.energy):
        lines.append(f"{efficiency} ({joules_cell(cell.case.energy)})")
    if cell.case.unstable:
        lines.append(f"unstable: {cell.case.unstable}")
    if (
        cell.ratio is not None
        and floor_pct is not None
        and within_floor(cell.ratio.estimate, floor_pct)
    ):
        lines.append(f"within the run's noise ({floor_pct:.0f}%)")
    return lines


def to_markdown(
    comparison: Comparison, rows: list[list[str]], confidence: float, notes: list[str]
) -> str:
    lines = [
        *markdown_table(["case", *comparison.columns], rows),
        "",
        f"Median ms per step; xR [low, high]: median ratio to `{comparison.baseline}` (the "
        f"baseline) with its {confidence:.0%} bootstrap CI (above 1: slower).",
        *(f"- {note}" for note in notes),
    ]
    return "\n".join(lines) + "\n"


def comparison_notes(comparison: Comparison, floor_pct: float | None) -> list[str]:
    notes = [f"baseline: {comparison.baseline} (every other column is divided by it)"]
    if comparison.across_precisions:
        notes.append(
            "across precisions: cells marked 'X vs Y' ran in another dtype than their baseline; "
            "each passed its own dtype's parity tolerance against the fp32 CPU reference"
        )
    if floor_pct is not None:
        notes.append(f"differences below {floor_pct:.0f}% are not meaningful in these runs "
                     "(their A/A spread)")  # fmt: skip
    return notes


def main(args: argparse.Namespace) -> int:
    if not 0 < args.confidence < 1:
        raise UsageError(f"--confidence must lie in (0, 1), got {args.confidence}")
    if args.markdown:
        files.check_output(args.markdown)
    inputs = read_inputs(args.files)
    comparison = compare(inputs.documents, args.by, args.baseline)
    floor_pct = noise_floor_pct([doc for _, doc in inputs.documents])
    alpha = 1 - args.confidence
    cells = [
        (label, [cell_lines(c, alpha, floor_pct) for c in row]) for label, row in comparison.rows
    ]
    table = Table("case", *comparison.columns, title=f"hwbench compare by {args.by}")
    for label, row in cells:
        table.add_row(label, *("\n".join(lines) for lines in row))
    console = stdout_console()
    console.print(table)
    notes = [*inputs.notes, *comparison_notes(comparison, floor_pct)]
    for note in notes:
        console.print(f"note: {note}", highlight=False)
    if args.markdown:
        rows = [[label, *("; ".join(lines) for lines in row)] for label, row in cells]
        files.write_text(args.markdown, to_markdown(comparison, rows, args.confidence, notes))
    return 0
