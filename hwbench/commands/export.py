"""`hwbench export`: a result file in another tool's format (pytest-benchmark's JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hwbench.reporting.export import to_pytest_benchmark
from hwbench.results import files, store

FORMATS = {"pytest-benchmark": to_pytest_benchmark}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export", help="write a result file in another tool's format")
    export.add_argument("results", type=Path, help="a hwbench result file")
    export.add_argument("--format", choices=sorted(FORMATS), default="pytest-benchmark")
    export.add_argument("-o", "--output", type=Path, required=True, help="where to write it")


def main(args: argparse.Namespace) -> int:
    files.check_output(args.output)
    document = FORMATS[args.format](store.load(args.results))
    store.save(document, args.output)
    print(f"{args.format}: {len(document['benchmarks'])} benchmark(s) written to {args.output}")
    return 0
