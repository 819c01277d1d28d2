"""`hwbench schema`: the JSON Schema (draft 2020-12) of result files, or of peaks files
(--kind peaks), for checking them with any JSON Schema validator."""

from __future__ import annotations

import argparse
import sys

from hwbench.results.schema import KINDS, schema_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    schema = subparsers.add_parser("schema", help="print the JSON Schema of result files")
    schema.add_argument(
        "--kind", choices=sorted(KINDS), default="results",
        help="results (default): `hwbench run`'s files; peaks: `hwbench peak`'s",
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_text(args.kind))
    return 0
