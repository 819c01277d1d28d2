"""Energy in the reports, from hand-made energy blocks (no figure here is a measurement): the
table's column and caption, the HTML report's rows, `compare`'s cells, the ladder's joules per
rung, and the energy view `gate --metric energy` judges."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from rich.console import Console

from hwbench.analysis.compare import Cell
from hwbench.analysis.energy_view import energy_view
from hwbench.commands import compare as compare_command
from hwbench.commands.ladder import energy_row, ladder_table
from hwbench.execution.ladder import Step
from hwbench.reporting import details, energy_cells
from hwbench.reporting.table import results_table
from tests.records import record

NOT_EXPOSED = {"status": "not exposed", "reason": "no /sys/class/powercap"}


def measured(j_per_sample: float, segments: list[float] | None = None) -> dict[str, Any]:
    return {
        "status": "measured",
        "resolution_bound_pct": 0.5,
        "mean_w": 40.0,
        "joules_per": {"sample": j_per_sample},
        "segment_joules_per": {"sample": segments or [j_per_sample]},
    }


def timed(energy: dict[str, Any] | None, **key: Any) -> Any:
    latency = {"p50": 1.0, "median_ci_low": 0.99, "median_ci_high": 1.01}
    metrics = {"latency_ms": latency, "throughput": 1000.0}
    return record(key, samples_ns=[1e6] * 10, metrics=metrics, energy=energy)


def document(*cases: Any) -> dict[str, Any]:
    devices = {"cpu": {"available": True, "reason": ""}}
    return {"suite": "s", "machine": "m", "devices": devices, "cases": list(cases)}


def rendered(doc: dict[str, Any]) -> str:
    console = Console(width=300, record=True)
    console.print(results_table(doc, width=300))
    return " ".join(console.export_text().split())


def test_cells_quote_joules_per_unit_with_the_bound_or_say_why_not() -> None:
    assert energy_cells.joules_cell(measured(0.0125)) == "0.0125 J/sample ±0.5%"
    assert energy_cells.efficiency_cell(measured(0.0125)) == "80 samples/J, 40 W mean"
    assert energy_cells.joules_cell(NOT_EXPOSED) == "not exposed"
    assert energy_cells.joules_cell({"status": "too short", "reason": "r"}) == "too short"
    assert energy_cells.joules_cell(None) == energy_cells.efficiency_cell(NOT_EXPOSED) == ""
    tokens = {**measured(0.5), "joules_per": {"output_token": 0.5, "request": 16.0}}
    assert energy_cells.efficiency_cell(tokens) == "2 tokens/J, 40 W mean"


def test_the_table_shows_energy_only_when_a_case_has_a_figure() -> None:
    without = rendered(document(timed(NOT_EXPOSED)))
    assert "J per sample" not in without
    assert "energy not exposed on cpu: no /sys/class/powercap" in without
    with_figure = rendered(document(timed(measured(0.0125)), timed(NOT_EXPOSED, batch=8)))
    assert "J per sample or token" in with_figure and "0.0125 J/sample" in with_figure


def test_the_html_rows_carry_units_per_joule_before_the_parity() -> None:
    header, rows, lines = details.file_table(document(timed(measured(0.0125))))
    column = header.index(details.ENERGY)
    assert header[column + 1] == "parity rel-L2"
    assert rows[0][column] == "0.0125 J/sample ±0.5%; 80 samples/J, 40 W mean"
    header, _, lines = details.file_table(document(timed(NOT_EXPOSED)))
    assert details.ENERGY not in header and lines == [
        "energy not exposed on cpu: no /sys/class/powercap"
    ]


def test_compare_cells_add_units_per_joule() -> None:
    cell = Cell(timed(measured(0.5)), ratio=None, baseline_dtype="fp32")
    lines = compare_command.cell_lines(cell, 0.05, None)
    assert "2 samples/J, 40 W mean (0.5 J/sample ±0.5%)" in lines


def test_the_ladder_shows_each_rungs_joules_and_its_gain_over_the_first() -> None:
    first = measured(0.4)
    rung = Step("bf16", timed(measured(0.1)), latency_ms=1.0)
    assert energy_row(rung, first) == ["0.1 J/sample ±0.5%", "4.00x"]
    assert energy_row(Step("failed", timed(None)), first) == ["", ""]
    blind = Step("eager", timed(NOT_EXPOSED), latency_ms=1.0)
    assert energy_row(blind, first) == ["not exposed", ""]


def test_the_energy_view_gates_segments_and_says_what_it_leaves_out() -> None:
    doc = document(
        timed(measured(0.5, [0.4, 0.5, 0.6])),
        timed(measured(0.5), batch=2),
        timed(NOT_EXPOSED, batch=4),
    )
    view, notes = energy_view(doc)
    [case] = view["cases"]
    assert case.samples_ns == (0.4, 0.5, 0.6) and case.metrics["latency_ms"]["p50"] == 0.5
    assert len(notes) == 2
    assert "1 timed segment(s)" in notes[0] and "not exposed: no /sys/class/powercap" in notes[1]


def test_the_ladder_table_adds_energy_columns_only_with_a_figure() -> None:
    run = SimpleNamespace(ladder=SimpleNamespace(device="cpu"), workload="mlp", size="tiny")
    run.scenario = "latency"

    def rungs(*energies: dict[str, Any]) -> dict[str, Any]:
        cases = [timed(e).with_details(rung=f"r{i}") for i, e in enumerate(energies)]
        return {**document(*cases), "machine": "m"}

    def text(table: Any) -> str:
        console = Console(width=300, record=True)
        console.print(table)
        return " ".join(console.export_text().split())

    measured_rungs = text(ladder_table(run, rungs(measured(0.4), measured(0.1))))
    assert "J vs first" in measured_rungs and "4.00x" in measured_rungs
    blind = text(ladder_table(run, rungs(NOT_EXPOSED, NOT_EXPOSED)))
    assert "J vs first" not in blind
    assert blind.count("energy not exposed on cpu: no /sys/class/powercap") == 1
