"""The `hwbench` command line; each subcommand lives in hwbench/commands/<name>.py."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

import hwbench
from hwbench.commands import COMMANDS
from hwbench.errors import EXIT_SAVE_FAILED, SaveError, UsageError, raise_terminated, stopped

EXIT_OK, EXIT_USAGE = 0, 2


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
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        return command.main(args)
    except (UsageError, SaveError) as error:
        print(f"hwbench: error: {error}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, UsageError) else EXIT_SAVE_FAILED
    except KeyboardInterrupt as stop:
        what, code = stopped(stop)
        print(f"hwbench: {what}; finished cases are saved", file=sys.stderr)
        return code
    except BrokenPipeError:
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
