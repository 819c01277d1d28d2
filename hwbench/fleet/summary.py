"""What a fleet run prints: each machine's results table (as a local run prints its own), the
cases no node could run, then one comparison of every target on every machine (hwbench
compare's table, by target)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from hwbench.analysis.compare import compare
from hwbench.analysis.noise import noise_floor_pct
from hwbench.commands.compare import cell_lines, comparison_notes
from hwbench.errors import UsageError
from hwbench.fleet.runner import FleetRun
from hwbench.labels import label
from hwbench.reporting.table import results_table

CONFIDENCE = 0.95


def show(run: FleetRun, out: Console, wide: bool = False) -> None:
    for document in run.machines.documents.values():
        out.print(results_table(document, out.width, wide))
    for record in run.unplaced:
        out.print(f"skipped (no node): {label(record.key)}: {record.reason}", highlight=False)
    show_comparison(run, out)


def show_comparison(run: FleetRun, out: Console) -> None:
    """Every timed case side by side by target (on its machine), ratios to the first."""
    documents = run.machines.named()
    try:
        comparison = compare(documents, "target")
    except UsageError as why:
        out.print(f"note: no comparison across machines: {why}", highlight=False)
        return
    floor_pct = noise_floor_pct([document for _, document in documents])
    table = Table("case", *comparison.columns, title="hwbench fleet: every machine by target")
    for row, cells in comparison.rows:
        table.add_row(row, *("\n".join(cell_lines(c, 1 - CONFIDENCE, floor_pct)) for c in cells))
    out.print(table)
    for note in comparison_notes(comparison, floor_pct):
        out.print(f"note: {note}", highlight=False)
