"""The `hwbench` command line; each subcommand lives in hwbench/commands/<name>.py."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

import hwbench
from hwbench.commands import COMMANDS
from hwbench.errors import EXIT_SAVE_FAILED, SaveError, Terminated, UsageError, raise_terminated

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 2, 130, 143  # 128 + signal


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
    except UsageError as error:
        print(f"hwbench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SaveError as error:
        print(f"hwbench: error: {error}", file=sys.stderr)
        return EXIT_SAVE_FAILED
    except KeyboardInterrupt as stop:
        what = "terminated" if isinstance(stop, Terminated) else "interrupted"
        print(f"hwbench: {what}; finished cases are saved", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
