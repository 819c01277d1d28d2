"""`hwbench ladder`: climb a device's optimization ladder and print what each rung buys."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from hwbench.commands.output import Steps, stderr_console, stdout_console
from hwbench.errors import UsageError, unknown_choice
from hwbench.machine import machine_name
from hwbench.registry import lookup
from hwbench.reporting import energy_cells
from hwbench.reporting.table import headline
from hwbench.reporting.vocabulary import styled
from hwbench.results.record import CaseRecord

# The ladders, the workloads and the runner import torch, so they are imported where they are
# used: every command module is imported to build `hwbench --help`.
if TYPE_CHECKING:
    from hwbench.execution.ladder import LadderRun, Step
    from hwbench.ladders.base import Rung

COLUMNS = ("#", "rung", "status", "median ms", "samples/s", "vs previous", "vs first")
COLUMNS += ("parity rel-L2 / tol", "prepare s", "reason")
ENERGY_COLUMNS = (energy_cells.HEADER, "J vs first")  # after "vs first", when measured


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ladder", help="run a device's optimization ladder, rung by rung")
    p.add_argument("--workload", required=True, help="workload name, e.g. llama or moe")
    p.add_argument("--device", required=True, help="cpu, cuda or npu")
    p.add_argument("--scenario", default="latency", choices=("latency", "throughput"))
    p.add_argument("--size", default="tiny", help="tiny, small or full (default: tiny)")
    p.add_argument("--batch", type=int, default=8, help="batch of the throughput scenario")
    p.add_argument("--time-budget", type=float, help="seconds of sampling per rung at most")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds before a rung is killed")
    p.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    p.add_argument("--machine", help="folder name for this machine (default: host name)")


def ladder_run(args: argparse.Namespace) -> LadderRun:
    """The climb the command line asks for; bad names fail before anything runs."""
    from hwbench.execution.ladder import LadderRun
    from hwbench.ladders.base import ladder_for
    from hwbench.measure.harness import HarnessConfig
    from hwbench.workloads.base import SIZES

    lookup("workloads", args.workload)
    if args.size not in SIZES:
        raise unknown_choice("size", args.size, SIZES)
    if args.batch < 1:
        raise UsageError(f"--batch must be >= 1, got {args.batch}")
    harness = HarnessConfig()
    if args.time_budget is not None:
        harness = replace(harness, time_budget_s=args.time_budget)
    return LadderRun(
        ladder_for(args.device),
        args.workload,
        args.size,
        args.scenario,
        args.batch,
        harness,
        case_timeout_s=args.timeout,
    )


def _gain(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _parity(record: CaseRecord) -> str:
    parity = record.parity
    return (
        ""
        if not parity or "rel_l2" not in parity
        else f"{parity['rel_l2']:.1e} / {parity['tolerance']:g}"
    )


def step_row(index: int, step: Step) -> list[str]:
    record, status = step.record, step.record.status
    prepare = record.timings.prepare_s
    return [
        str(index),
        step.rung,
        styled(status),
        "" if step.latency_ms is None else f"{step.latency_ms:.4g}",
        "" if step.throughput is None else f"{step.throughput:.4g}",
        _gain(step.vs_previous),
        _gain(step.vs_first),
        _parity(record),
        "" if prepare is None else f"{prepare:.2f}",
        record.reason,
    ]


def ladder_table(run: LadderRun, document: dict[str, Any]) -> Table:
    from hwbench.execution.ladder import steps

    key = f"{run.workload}/{run.size} {run.scenario}"
    table = Table(title=f"hwbench ladder {run.ladder.device}: {key} on {document['machine']}")
    found = steps(document)
    energy = energy_cells.any_energy([step.record for step in found])
    first = next((step.record.energy for step in found if step.counted), None)
    for column in (*COLUMNS[:7], *ENERGY_COLUMNS, *COLUMNS[7:]) if energy else COLUMNS:
        table.add_column(column, overflow="fold")
    for index, step in enumerate(found, start=1):
        row = step_row(index, step)
        if energy:
            row[7:7] = energy_row(step, first)
        table.add_row(*row)
    table.caption = "gains: speed-up of the median step over the last rung that passed, and "
    table.caption += "over the first; a failed or skipped rung counts for nothing"
    if energy:
        table.caption += "; J vs first: the first rung's joules per unit over this rung's"
    for line in energy_cells.missing_lines([step.record for step in found]):
        table.caption += f"\n{line}"
    return table


def energy_row(step: Step, first: dict[str, Any] | None) -> list[str]:
    """A rung's joules per unit, and how many times fewer than the first counted rung's."""
    if not step.counted:
        return ["", ""]
    return [
        energy_cells.joules_cell(step.record.energy),
        _gain(energy_cells.gain(first, step.record.energy)),
    ]


def describe(index: int, rung: Rung) -> str:
    env = " ".join(f"{k}={v}" for k, v in rung.env)
    extra = "".join(f"; {part}" for part in (f"env {env}" if env else "", rung.source) if part)
    return f"{index}. {rung.name} [{rung.target}]: {rung.adds}{extra}"


def main(args: argparse.Namespace) -> int:
    from hwbench.execution.ladder import run_ladder
    from hwbench.execution.runner import NotSaved

    run = ladder_run(args)
    console = stderr_console()
    with Steps(console, total=len(run.ladder.rungs)) as progress:

        def on_rung(rung: Rung, records: list[CaseRecord] | None) -> None:
            if records is None:
                progress.doing(f"rung {rung.name}: {rung.target}")
            else:
                progress.done("\n".join(f"rung {rung.name}: {headline(r)}" for r in records))

        unsaved: NotSaved | None = None
        try:
            document, path = run_ladder(run, args.out, machine_name(args.machine), on_rung)
        except NotSaved as stopped:
            unsaved, document = stopped, stopped.document
    out = stdout_console()
    out.print(ladder_table(run, document))
    for index, rung in enumerate(run.ladder.rungs, start=1):
        out.print(describe(index, rung), soft_wrap=True, highlight=False, markup=False)
    if unsaved is not None:
        raise unsaved  # after the table: hwbench.cli says where the write failed, exit 74
    console.print(f"results: {path}")
    return 1 if any(case.status == "failed" for case in document["cases"]) else 0
