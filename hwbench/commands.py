"""What each `hwbench` subcommand does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hwbench.case import Case, expand
from hwbench.config import Suite, Target, load_suite, suite_from_dict
from hwbench.env import fingerprint, machine_name
from hwbench.errors import UsageError
from hwbench.registry import plugins
from hwbench.runner import run_suite
from hwbench.table import results_table

EXIT_OK, EXIT_FAILED_CASES = 0, 1


def dispatch(args: argparse.Namespace) -> int:
    return {"run": cmd_run, "list": cmd_list, "env": cmd_env}[args.command](args)


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    """Repeated and comma-separated values as one tuple; None when not given."""
    if not values:
        return None
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _ints(values: tuple[str, ...] | None) -> tuple[int, ...] | None:
    if values is None:
        return None
    try:
        return tuple(int(v) for v in values)
    except ValueError:
        raise UsageError(f"--batch takes integers, got {', '.join(values)}") from None


def suite_from_args(args: argparse.Namespace) -> Suite:
    """The suite a `run` command line asks for: the --suite file, overridden by flags."""
    targets = _split(args.target)
    overrides: dict[str, Any] = {
        "workloads": _split(args.workload),
        "sizes": _split(args.size),
        "scenarios": _split(args.scenario),
        "batches": _ints(_split(args.batch)),
        "model_path": args.model,
        "seed": args.seed,
        "case_timeout_s": args.timeout,
        "targets": tuple(Target.parse(t, args.dtype) for t in targets) if targets else None,
    }
    if args.suite is not None:
        suite = load_suite(args.suite, **overrides)
    else:
        suite = suite_from_dict({}, "command line", **overrides)
    if args.time_budget is not None:
        suite = replace(suite, harness=replace(suite.harness, time_budget_s=args.time_budget))
    if args.dtype and not targets:
        suite = replace(
            suite, targets=tuple(Target.parse(str(t), args.dtype) for t in suite.targets)
        )
    return suite


def cmd_run(args: argparse.Namespace) -> int:
    suite = suite_from_args(args)
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=len(expand(suite)))

        def on_case(case: Case, record: dict[str, Any] | None) -> None:
            if record is None:
                progress.update(task, description=case.label())
            else:
                progress.advance(task)

        document, path = run_suite(suite, args.out, machine_name(args.machine), on_case)
    if args.json:
        _print_json(document)
    else:
        Console(width=None if sys.stdout.isatty() else 160).print(results_table(document))
    console.print(f"results: {path}")
    failed = sum(case["status"] == "failed" for case in document["cases"])
    return EXIT_FAILED_CASES if failed else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    console = Console()
    devices = Table("device", "status", "reason", title="devices")
    for name, cls in plugins("devices").items():
        ok, reason = cls().available()
        devices.add_row(name, "[green]available[/]" if ok else "[yellow]unavailable[/]", reason)
    console.print(devices)
    workloads = Table("workload", "family", "sizes", title="workloads")
    for name, cls in sorted(plugins("workloads").items()):
        label = name + (" (--model PATH)" if getattr(cls, "needs_path", False) else "")
        workloads.add_row(label, cls.family, ", ".join(cls.configs))
    console.print(workloads)
    console.print("engines: " + ", ".join(sorted(plugins("engines"))))
    console.print("scenarios: " + ", ".join(sorted(plugins("scenarios"))))
    return EXIT_OK


def cmd_env(args: argparse.Namespace) -> int:
    _print_json(fingerprint())
    return EXIT_OK


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=1)
    sys.stdout.write("\n")
