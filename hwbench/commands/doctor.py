"""`hwbench doctor`: each device's software stack checked as its vendor documents it (driver,
runtime, toolkit, the torch pairing, the engines' builds), every problem with its fix. Exit 0
when every device asked for (or, unasked, each one this machine shows signs of) is ready, 1
otherwise."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbench.commands.output import stdout_console
from hwbench.doctor.finding import FAIL, INFO, OK, WARN, Finding, ready
from hwbench.registry import lookup, plugins

EXIT_READY, EXIT_NOT_READY = 0, 1
STATUS = {OK: "[green]ok[/]", INFO: "info", WARN: "[yellow]warn[/]", FAIL: "[red]FAIL[/]"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", help="check each device's driver and software stack")
    p.add_argument(
        "--device",
        action="append",
        metavar="D",
        help="a device to check, e.g. npu, cuda or cpu (repeatable; default: the CPU and every "
        "device this machine shows signs of: its torch build, driver, toolkit)",
    )


def main(args: argparse.Namespace) -> int:
    # imported here, as the checks import torch (through the devices and engines): every
    # command module is imported to build `hwbench --help`
    from hwbench.doctor.diagnose import diagnose
    from hwbench.doctor.host import Host
    from hwbench.doctor.present import WHAT_SIGNS, present

    for name in args.device or ():
        lookup("devices", name)  # a UsageError naming the valid devices
    console, host = stdout_console(), Host()
    names = args.device or [name for name in plugins("devices") if present(name, host)]
    for name in sorted(set(plugins("devices")) - set(names)) if not args.device else ():
        why = WHAT_SIGNS.get(name, "hwbench does not see it")
        console.print(f"{name}: not checked, no sign of it here ({why}); --device {name} checks it")
    problems = {}
    for name in names:
        findings = diagnose(name, host)
        show(console, name, findings)
        problems[name] = sum(finding.status == FAIL for finding in findings)
    console.print(summary(problems))
    return EXIT_NOT_READY if any(problems.values()) else EXIT_READY


def show(console: Console, device: str, findings: list[Finding]) -> None:
    """The device's checks as a table, then each problem and warning with its fix."""
    verdict = "[green]ready[/]" if ready(findings) else "[red]not ready[/]"
    table = Table("check", "status", "found", title=f"{device}: {verdict}", title_justify="left")
    for finding in findings:
        table.add_row(finding.check, STATUS[finding.status], escape(finding.found))
    console.print(table)
    todo = [finding for finding in findings if finding.status in (FAIL, WARN)]
    for number, finding in enumerate(todo, 1):
        what = f"{escape(finding.check)}: {escape(finding.found)}"
        console.print(f"{number}. {STATUS[finding.status]} {what}")
        console.print(f"   fix: {escape(finding.fix)}")


def summary(problems: dict[str, int]) -> str:
    """E.g. "ready: cpu; not ready: cuda (2 problems), npu (1 problem)"."""
    ready_ones = ", ".join(name for name, count in problems.items() if not count)
    failing = ", ".join(
        f"{name} ({count} problem{'s' if count > 1 else ''})"
        for name, count in problems.items()
        if count
    )
    parts = [f"ready: {ready_ones}"] if ready_ones else []
    return "; ".join(parts + ([f"not ready: {failing}"] if failing else []))
