"""`hwbench compare`: result files (or targets within one) side by side, ratios with CIs."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from hwbench.analysis.compare import Arm, Cell, arms, check_arms, comparison
from hwbench.commands.output import stdout_console
from hwbench.errors import UsageError
from hwbench.reporting.export import load_any
from hwbench.reporting.vocabulary import markdown_table


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    compare = subparsers.add_parser(
        "compare",
        help="side by side, median ratios with CIs against the first file's first target",
    )
    compare.add_argument("files", nargs="+", type=Path, help="result or pytest-benchmark files")
    compare.add_argument("--baseline", metavar="TARGET", help="the arm to divide by")
    compare.add_argument("--confidence", type=float, default=0.95, help="CI level (0.95)")
    compare.add_argument("--markdown", type=Path, help="write the table as Markdown here")


def cell_text(cell: Cell | None, alpha: float) -> str:
    if cell is None:
        return "-"
    if cell.ratio is None:
        return f"{cell.median_ms:.4g} ms"
    low, high = cell.ratio.interval(alpha)
    return f"{cell.median_ms:.4g} ms x{cell.ratio.estimate:.3f} [{low:.3f}, {high:.3f}]"


def pick_baseline(arm_list: list[Arm], target: str | None) -> list[Arm]:
    if target is None:
        return arm_list
    chosen = [arm for arm in arm_list if arm.label.split()[-1] == target]
    if not chosen:
        valid = ", ".join(arm.label for arm in arm_list)
        raise UsageError(f"no arm with target {target!r}; arms: {valid}")
    return [chosen[0], *(arm for arm in arm_list if arm is not chosen[0])]


def unique_names(paths: list[Path]) -> list[str]:
    """File stems, with #2, #3... on repeats."""
    names: list[str] = []
    for path in paths:
        repeats = sum(name.split("#")[0] == path.stem for name in names)
        names.append(path.stem + (f"#{repeats + 1}" if repeats else ""))
    return names


def to_markdown(header: list[str], rows: list[list[str]], confidence: float) -> str:
    lines = [
        *markdown_table(header, rows),
        "",
        f"Median ms per step; xR [low, high]: median ratio to `{header[1]}` with its "
        f"{confidence:.0%} bootstrap CI (above 1: slower).",
    ]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    if not 0 < args.confidence < 1:
        raise UsageError(f"--confidence must lie in (0, 1), got {args.confidence}")
    names = unique_names(args.files)
    documents = [(name, load_any(path)) for name, path in zip(names, args.files, strict=True)]
    arm_list = pick_baseline(arms(documents), args.baseline)
    if len(arm_list) < 2:
        raise UsageError("nothing to compare: the files hold one target's ok cases")
    check_arms(arm_list[0], arm_list[1:])
    header = ["case", *(arm.label for arm in arm_list)]
    alpha = 1 - args.confidence
    rows = [[label, *(cell_text(c, alpha) for c in cells)] for label, cells in comparison(arm_list)]
    table = Table(*header, title=f"hwbench compare (ratios to {header[1]})")
    for row in rows:
        table.add_row(*row)
    stdout_console().print(table)
    if args.markdown:
        args.markdown.write_text(to_markdown(header, rows, args.confidence))
    return 0
