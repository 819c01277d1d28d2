"""`hwbench report`: one self-contained HTML file (and a Markdown summary) from result files."""

from __future__ import annotations

import argparse
from pathlib import Path

from hwbench.reporting.inputs import read_inputs


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser("report", help="an HTML report (charts inline) of result files")
    report.add_argument(
        "files", nargs="+", type=Path, help="result files, folders or globs (peaks files left out)"
    )
    report.add_argument("-o", "--output", type=Path, required=True, help="the HTML file to write")
    report.add_argument("--markdown", type=Path, help="also write a Markdown summary here")
    report.add_argument("--title", default="hwbench report", help="the report's title")


def main(args: argparse.Namespace) -> int:
    from hwbench.reporting.html import html_report, markdown_report  # matplotlib: load only here

    inputs = read_inputs(args.files)
    for note in inputs.notes:
        print(f"note: {note}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(html_report(inputs.documents, args.title))
    if args.markdown:
        args.markdown.write_text(markdown_report(inputs.documents, args.title))
    print(f"report: {args.output}" + (f", {args.markdown}" if args.markdown else ""))
    return 0
