"""`hwbench run`: run a suite, print the table, save the result file."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwbench.commands.output import Steps, stderr_console, stdout_console
from hwbench.errors import UsageError
from hwbench.fleet.cli import fleet_arguments, refuse_placement
from hwbench.machine import machine_name
from hwbench.reporting.table import headline, results_table
from hwbench.results import store
from hwbench.results.record import CaseRecord

# hwbench.config and hwbench.execution import torch, so they are imported where a run needs
# them: `hwbench --help` and the light commands build this module's parser too.
if TYPE_CHECKING:
    from hwbench.case import Case
    from hwbench.config import Suite

EXIT_OK, EXIT_FAILED_CASES = 0, 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run", help="run a suite (default: every workload, tiny, every engine and device here)"
    )
    run.add_argument("--workload", action="append", help="workload name (repeatable)")
    run.add_argument("--size", action="append", help="tiny, small or full (repeatable)")
    run.add_argument(
        "--target", action="append", help="ENGINE@DEVICE[:key=value,...], e.g. torch@cpu:dtype=bf16"
    )
    run.add_argument(
        "--scenario",
        action="append",
        help="latency, throughput, generate, serve, loadgen-singlestream, loadgen-multistream, "
        "loadgen-server, loadgen-offline or loadgen-server-tokens (repeatable)",
    )
    run.add_argument("--batch", action="append", help="batch sizes for the throughput sweep")
    run.add_argument("--dtype", help="dtype for targets that do not name one (fp32, bf16, fp16)")
    run.add_argument("--model", metavar="PATH", help="a local Hugging Face model directory")
    run.add_argument("--name", help="what tables call the --model (default: its folder's name)")
    run.add_argument("--suite", type=Path, help="a TOML suite file (flags override it)")
    run.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    run.add_argument("--machine", help="folder name for this machine (default: host name)")
    run.add_argument("--time-budget", type=float, help="seconds of sampling per case at most")
    run.add_argument(
        "--timeout", type=float, help="seconds before a case's worker is killed (per pass)"
    )
    run.add_argument(
        "--passes",
        type=int,
        help="split each latency/throughput case's sampling into N passes taken in turns with "
        "the other cases (default 3; 1: each case in one go)",
    )
    run.add_argument(
        "--live-cases",
        type=int,
        help="cases kept loaded at once while interleaving (default by size: tiny 64, "
        "small 8, full 1)",
    )
    run.add_argument("--seed", type=int, help="seed for weights and inputs")
    run.add_argument("--json", action="store_true", help="print the result document as JSON")
    run.add_argument(
        "--wide", action="store_true", help="every column of the table, however wide the terminal"
    )
    run.add_argument(
        "--check-only", action="store_true", help="check every case's parity; time nothing"
    )
    fleet_arguments(run)
    llm = run.add_argument_group("generate and serve")
    llm.add_argument("--prompt-len", type=int, help="prompt tokens (default: per size)")
    llm.add_argument("--output-len", type=int, help="output tokens (default: per size)")
    llm.add_argument(
        "--request-rate", action="append", help="serve: requests/s to sweep, e.g. 2,8,inf"
    )
    llm.add_argument(
        "--burstiness", type=float, help="serve: gamma shape of arrival gaps (1: Poisson)"
    )
    llm.add_argument("--slo", help="serve: SLOs for goodput, e.g. ttft=500ms,tpot=50ms")
    remote = run.add_argument_group("serve a server you already run (README)")
    remote.add_argument("--endpoint", metavar="URL", help="its OpenAI-compatible API, e.g. "
                        "http://127.0.0.1:8000/v1 (target endpoint@remote)")  # fmt: skip
    remote.add_argument("--served-model", help="the model's name there (default: its only one)")
    remote.add_argument(
        "--tokenizer", metavar="PATH", help="its tokenizer.json (or folder): exact prompt lengths"
    )
    remote.add_argument("--api", help="completions (default) or chat")
    remote.add_argument("--api-key-env", metavar="VAR", help="environment variable with the key")
    remote.add_argument("--request-timeout", type=float, help="seconds per request (default 600)")
    remote.add_argument(
        "--no-tls-verify", action="store_true", help="accept any TLS certificate (default: verify)"
    )
    mlperf = run.add_argument_group("MLPerf LoadGen scenarios (default: by size; see README)")
    mlperf.add_argument("--min-duration-ms", type=int, help="LoadGen's min_duration_ms")
    mlperf.add_argument("--min-query-count", type=int, help="LoadGen's min_query_count")
    mlperf.add_argument("--target-qps", type=float, help="loadgen-server: server_target_qps")
    mlperf.add_argument(
        "--samples-per-query", type=int, help="loadgen-multistream: samples per query"
    )


def split_list(values: list[str] | None) -> tuple[str, ...] | None:
    """Repeated and comma-separated values as one tuple; None when not given."""
    if not values:
        return None
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def split_targets(values: list[str] | None) -> tuple[str, ...] | None:
    """Targets from repeated and comma-separated flags; a comma followed by no '@' separates
    options of one target (`torch@cpu:dtype=bf16,kernels=fused`), not two targets."""
    pieces = split_list(values)
    if pieces is None:
        return None
    targets: list[str] = []
    for piece in pieces:
        if "@" in piece or not targets:
            targets.append(piece)
        else:
            targets[-1] += f",{piece}"
    return tuple(targets)


def _numbers(values: tuple[str, ...] | None, kind: type, flag: str, what: str) -> tuple | None:
    """`values` converted by `kind`; a UsageError naming `flag` when one is not a number."""
    if values is None:
        return None
    try:
        return tuple(kind(v) for v in values)
    except ValueError:
        raise UsageError(f"{flag} takes {what}, got {', '.join(values)}") from None


def suite_from_args(args: argparse.Namespace) -> Suite:
    """The suite a `run` command line asks for: the --suite file, overridden by flags."""
    from hwbench.config import Target, load_suite, suite_from_dict

    targets = split_targets(args.target)
    overrides: dict[str, Any] = {
        "workloads": split_list(args.workload),
        "sizes": split_list(args.size),
        "scenarios": split_list(args.scenario),
        "batches": _numbers(split_list(args.batch), int, "--batch", "integers"),
        "model_path": args.model,
        "model_name": args.name,
        "seed": args.seed,
        "case_timeout_s": args.timeout,
        "live_cases": args.live_cases,
        "check_only": args.check_only or None,
        "prompt_len": args.prompt_len,
        "output_len": args.output_len,
        "request_rates": _numbers(
            split_list(args.request_rate), float, "--request-rate", "numbers or inf"
        ),
        "burstiness": args.burstiness,
        "slo": args.slo,
        "endpoint": args.endpoint,
        "served_model": args.served_model,
        "tokenizer": args.tokenizer,
        "api": args.api,
        "api_key_env": args.api_key_env,
        "request_timeout_s": args.request_timeout,
        "tls_verify": False if args.no_tls_verify else None,
        "min_duration_ms": args.min_duration_ms,
        "min_query_count": args.min_query_count,
        "server_target_qps": args.target_qps,
        "multi_stream_samples_per_query": args.samples_per_query,
        "targets": tuple(Target.parse(t, args.dtype) for t in targets) if targets else None,
    }
    harness = {"time_budget_s": args.time_budget, "passes": args.passes}
    harness = {k: v for k, v in harness.items() if v is not None}
    if args.suite is not None:
        suite = load_suite(args.suite, harness, **overrides)
    else:
        suite = suite_from_dict({}, "command line", harness, **overrides)
    if args.dtype and not targets:
        dtyped = tuple(Target.parse(str(t), args.dtype) for t in suite.targets)
        suite = replace(suite, targets=dtyped)
    return suite


def main(args: argparse.Namespace) -> int:
    from hwbench.execution.plan import expand
    from hwbench.execution.runner import NotSaved, run_suite

    suite = suite_from_args(args)
    if args.ray is not None:  # across the nodes of a Ray cluster (hwbench/fleet/)
        from hwbench.fleet.command import run_fleet_command

        return run_fleet_command(args, suite)
    refuse_placement(suite, args)
    console = stderr_console()
    with Steps(console, total=len(expand(suite))) as steps:
        done: dict[int, float] = {}  # fraction of each case measured

        def on_case(case: Case, record: CaseRecord | None, fraction: float) -> None:
            step = fraction - done.get(id(case), 0.0)
            done[id(case)] = fraction
            if record is None:
                steps.advance(step)
                steps.doing(case.label())
            else:
                steps.done(headline(record), step)

        unsaved: NotSaved | None = None
        try:
            document, path = run_suite(suite, args.out, machine_name(args.machine), on_case)
        except NotSaved as stopped:
            unsaved, document = stopped, stopped.document
    show(args, document)
    if unsaved is not None:
        raise unsaved  # after the table: hwbench.cli says where the write failed, exit 74
    console.print(f"results: {path}")
    failed = sum(case.status == "failed" for case in document["cases"])
    return EXIT_FAILED_CASES if failed else EXIT_OK


def show(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """The run's table (or, with --json, its document) on stdout."""
    if args.json:
        sys.stdout.write(store.dumps(document) + "\n")
        return
    out = stdout_console()
    out.print(results_table(document, out.width, args.wide))
    if "noise" in document:
        out.print(f"noise: {document['noise']['note']}", highlight=False)
