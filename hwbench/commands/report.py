"""`hwbench report`: one self-contained HTML file (and a Markdown summary) from result files."""

from __future__ import annotations

import argparse
from pathlib import Path

from hwbench.reporting.inputs import read_inputs
from hwbench.results import files


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

    outputs = [p for p in (args.output, args.markdown) if p is not None]
    for path in outputs:
        files.check_output(path)
    inputs = read_inputs(args.files)
    for note in inputs.notes:
        print(f"note: {note}")
    files.write_text(args.output, html_report(inputs.documents, args.title, inputs.ports))
    if args.markdown:
        files.write_text(args.markdown, markdown_report(inputs.documents, args.title))
    print(f"report: {args.output}" + (f", {args.markdown}" if args.markdown else ""))
    return 0
