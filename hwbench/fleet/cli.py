"""The `run` flags of a fleet run, and the check that a local run names no Ray placement.
Imports neither Ray nor torch: `hwbench --help` builds the parser."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hwbench.errors import UsageError

if TYPE_CHECKING:
    from hwbench.config import Suite


def fleet_arguments(run: argparse.ArgumentParser) -> None:
    """Add --ray and --report to the `run` parser."""
    fleet = run.add_argument_group("across machines on Ray (README: Run across machines)")
    fleet.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run each case as a Ray task on a node that has its device: a cluster's address "
        "(HOST:PORT; alone: $RAY_ADDRESS) or 'local' (a Ray started here on 127.0.0.1)",
    )
    fleet.add_argument(
        "--report", type=Path, metavar="HTML", help="with --ray: one HTML report of every machine"
    )


def refuse_placement(suite: Suite, args: argparse.Namespace) -> None:
    """UsageError when a run without --ray names what only a fleet run uses."""
    from hwbench.config import PLACEMENT_OPTIONS

    for target in suite.targets:
        placed = [k for k, _ in target.options if k in PLACEMENT_OPTIONS]
        if placed:
            raise UsageError(
                f"target {target}: option {placed[0]}= places a case on a Ray node; add --ray"
            )
    if getattr(args, "report", None) is not None:
        raise UsageError("--report goes with --ray; for one machine run `hwbench report FILE`")
