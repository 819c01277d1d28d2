"""`hwbench list`: every device (available or why not), workload, engine and scenario."""

from __future__ import annotations

import argparse

from rich.table import Table

from hwbench.commands.output import stdout_console
from hwbench.registry import plugins


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("list", help="devices (available or why not), engines, workloads")


def main(args: argparse.Namespace) -> int:
    from hwbench.ladders.npu import installed_operators  # imports torch: not for `--help`

    console = stdout_console()
    devices = Table("device", "status", "reason", title="devices")
    for name, cls in plugins("devices").items():
        ok, reason = cls().available()
        devices.add_row(name, "[green]available[/]" if ok else "[yellow]unavailable[/]", reason)
    console.print(devices)
    workloads = Table("workload", "family", "sizes", title="workloads")
    for name, cls in sorted(plugins("workloads").items()):
        label = name + (" (--model PATH)" if getattr(cls, "needs_path", False) else "")
        label += " (--endpoint URL)" if getattr(cls, "needs_endpoint", False) else ""
        workloads.add_row(label, cls.family, ", ".join(cls.configs))
    console.print(workloads)
    console.print("engines: " + ", ".join(sorted(plugins("engines"))))
    console.print("scenarios: " + ", ".join(sorted(plugins("scenarios"))))
    console.print("npu ladder operators: " + "; ".join(installed_operators()))
    return 0
