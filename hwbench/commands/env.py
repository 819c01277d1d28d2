"""`hwbench env`: this machine's environment fingerprint as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from hwbench.results.env import fingerprint


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("env", help="print this machine's environment fingerprint")


def main(args: argparse.Namespace) -> int:
    json.dump(fingerprint(), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0
