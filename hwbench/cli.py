"""The `hwbench` command line: run, list, env."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import hwbench
from hwbench.errors import UsageError

EXIT_OK, EXIT_FAILED_CASES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_run_parser(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run", help="run a suite (default: every workload, tiny, every engine and device here)"
    )
    run.add_argument("--workload", action="append", help="workload name (repeatable)")
    run.add_argument("--size", action="append", help="tiny, small or full (repeatable)")
    run.add_argument(
        "--target", action="append", help="ENGINE@DEVICE[:key=value,...], e.g. torch@cpu:dtype=bf16"
    )
    run.add_argument("--scenario", action="append", help="latency or throughput (repeatable)")
    run.add_argument("--batch", action="append", help="batch sizes for the throughput sweep")
    run.add_argument("--dtype", help="dtype for targets that do not name one (fp32, bf16, fp16)")
    run.add_argument("--model", metavar="PATH", help="a local Hugging Face model directory")
    run.add_argument("--suite", type=Path, help="a TOML suite file (flags override it)")
    run.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    run.add_argument("--machine", help="folder name for this machine (default: host name)")
    run.add_argument("--time-budget", type=float, help="seconds of sampling per case at most")
    run.add_argument("--timeout", type=float, help="seconds before a case's worker is killed")
    run.add_argument("--seed", type=int, help="seed for weights and inputs")
    run.add_argument("--json", action="store_true", help="print the result document as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwbench", description=hwbench.__doc__)
    parser.add_argument("--version", action="version", version=f"hwbench {hwbench.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_run_parser(subparsers)
    subparsers.add_parser("list", help="devices (available or why not), engines, workloads")
    subparsers.add_parser("env", help="print this machine's environment fingerprint")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hwbench import commands

    try:
        return commands.dispatch(args)
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
