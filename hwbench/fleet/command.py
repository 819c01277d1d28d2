"""`hwbench run --ray ADDRESS`: the suite across a Ray cluster's nodes, one result file per
machine, a manifest, one comparison table and, with --report, one HTML report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hwbench.commands.output import Steps, stderr_console, stdout_console
from hwbench.config import Suite
from hwbench.errors import UsageError
from hwbench.execution.plan import expand
from hwbench.fleet.connect import resolve_address
from hwbench.fleet.placement import Placement
from hwbench.fleet.runner import FleetRun, run_fleet
from hwbench.fleet.summary import show
from hwbench.reporting.table import headline
from hwbench.results import files
from hwbench.results.record import CaseRecord

EXIT_OK, EXIT_FAILED_CASES = 0, 1


def run_fleet_command(args: argparse.Namespace, suite: Suite) -> int:
    """Run, print, save; exit 1 when a case failed (a lost node's cases among them)."""
    if args.machine is not None:
        raise UsageError(
            "--machine names this machine's folder; with --ray each node's folder is its Ray "
            "node name (ray start --node-name NAME), else its host name"
        )
    address = resolve_address(args.ray)
    if args.report is not None:
        files.check_output(args.report)
    cases = expand(suite)
    console = stderr_console()
    with Steps(console, total=len(cases), description="starting Ray tasks") as steps:

        def on_record(placement: Placement, record: CaseRecord) -> None:
            where = placement.node.machine if placement.node else "no node"
            steps.done(f"{where}: {headline(record)}")

        run = run_fleet(suite, cases, args.out, address, on_record)
    if args.json:
        sys.stdout.write(json.dumps(run.manifest, indent=1, allow_nan=False) + "\n")
    else:
        show(run, stdout_console(), args.wide)
    if args.report is not None:
        write_report(run, args.report, suite.name)
    for path in run.machines.paths.values():
        console.print(f"results: {path}")
    console.print(f"fleet manifest: {run.manifest_path}")
    failed = any(r.status == "failed" for r in run.records.values())
    return EXIT_FAILED_CASES if failed else EXIT_OK


def write_report(run: FleetRun, path: Path, suite: str) -> None:
    """One HTML report of every machine's file, as `hwbench report FILES` writes it."""
    from hwbench.reporting.html import html_report  # matplotlib: load only here

    title = f"hwbench {suite} across {len(run.machines.documents)} machine(s)"
    files.write_text(path, html_report(run.machines.named(), title, []))
    stderr_console().print(f"report: {path}")
