"""`hwbench env`: this machine's environment fingerprint as JSON."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("env", help="print this machine's environment fingerprint")


def main(args: argparse.Namespace) -> int:
    # imported here, as it imports torch (through the CPU device): every command module is
    # imported to build `hwbench --help`
    from hwbench.results.env import fingerprint

    json.dump(fingerprint(), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0
