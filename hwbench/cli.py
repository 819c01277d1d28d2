"""The `hwbench` command line; each subcommand lives in hwbench/commands/<name>.py."""

from __future__ import annotations

import argparse
import importlib
import sys

import hwbench
from hwbench.commands import COMMANDS
from hwbench.errors import UsageError

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwbench", description=hwbench.__doc__)
    parser.add_argument("--version", action="version", version=f"hwbench {hwbench.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"hwbench.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = importlib.import_module(f"hwbench.commands.{args.command}")
    try:
        return command.main(args)
    except UsageError as error:
        print(f"hwbench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hwbench: interrupted; finished cases are saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
