"""`hwbench ab`: two arms in one session, interleaved ABBA, judged like `hwbench gate`."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

import numpy as np

from hwbench import results
from hwbench.ab import ArmSpec, abba, arm_record, block_ratio, log_ratios, pooled
from hwbench.ab_worker import WorkerArm
from hwbench.case import Case
from hwbench.commands.gate import add_verdict_options, publish
from hwbench.compare import case_label
from hwbench.config import Suite
from hwbench.env import fingerprint, machine_name
from hwbench.errors import UsageError
from hwbench.gate import Outcome, RatioGate, judge


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    ab = subparsers.add_parser(
        "ab", help="A/B: two targets or installs timed interleaved (ABBA) in one session"
    )
    ab.add_argument("--a", required=True, metavar="SPEC", help="TARGET or python=PATH:TARGET")
    ab.add_argument("--b", required=True, metavar="SPEC", help="TARGET or python=PATH:TARGET")
    ab.add_argument("--workload", default="mlp", help="workload name (mlp)")
    ab.add_argument("--size", default="tiny", help="tiny, small or full (tiny)")
    ab.add_argument("--scenario", default="latency", help="latency or throughput (latency)")
    ab.add_argument("--batch", type=int, default=1, help="batch size (1)")
    ab.add_argument("--blocks", type=int, default=12, help="ABBA blocks (12)")
    ab.add_argument("--samples", type=int, default=5, help="samples per arm per half-block (5)")
    ab.add_argument("--seed", type=int, default=0, help="seed for weights and inputs")
    ab.add_argument("--timeout", type=float, default=600.0, help="seconds a worker may take")
    ab.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    ab.add_argument("--machine", help="folder name for this machine (default: host name)")
    add_verdict_options(ab)


def case_for(args: argparse.Namespace, spec: ArmSpec) -> Case:
    """The arm's case; the Suite validates workload, size, scenario and batch."""
    suite = Suite(
        workloads=(args.workload,),
        sizes=(args.size,),
        scenarios=(args.scenario,),
        batches=(args.batch,),
        seed=args.seed,
        targets=(),
    )
    return Case(
        args.workload,
        args.size,
        spec.target,
        args.scenario,
        args.batch,
        seed=args.seed,
        harness=suite.harness,
    )


def measure(args: argparse.Namespace, specs: dict[str, ArmSpec]) -> tuple[dict, list[dict]]:
    """Start both workers, load the case in each, time the ABBA blocks; (records, blocks)."""
    arms: dict[str, WorkerArm] = {}
    with contextlib.ExitStack() as stack:
        for name, spec in specs.items():
            arms[name] = WorkerArm(name, spec.python, args.timeout)
            stack.callback(arms[name].close)
            arms[name].start_load(case_for(args, spec).to_json())
        for arm in arms.values():
            arm.finish_load()
        loops = max(arm.loops for arm in arms.values())  # same sample length for both
        for arm in arms.values():
            arm.loops = loops
        blocks = abba(arms, args.blocks, args.samples)
        for name, arm in arms.items():
            arm.record["roofline"] = arm.roofline(float(np.median(pooled(blocks, name))) / 1e9)
        return {name: (arm.record, loops) for name, arm in arms.items()}, blocks


def save(args: argparse.Namespace, specs: dict, records: dict, blocks: list, summary: dict) -> Path:
    config = {
        "ab": {k: str(v) for k, v in specs.items()},
        "blocks": args.blocks,
        "samples": args.samples,
    }
    document = results.new_results("ab", machine_name(args.machine), fingerprint(), config)
    document["cases"] = [
        arm_record(record, name, specs[name], pooled(blocks, name), loops)
        for name, (record, loops) in records.items()
    ]
    document["ab"] = summary
    path = results.result_path(args.out, document["machine"], "ab")
    results.save(document, path)
    return path


def main(args: argparse.Namespace) -> int:
    if args.blocks < 2 or args.samples < 1:
        raise UsageError(
            f"--blocks must be >= 2 and --samples >= 1, got {args.blocks}, {args.samples}"
        )
    specs = {"a": ArmSpec.parse(args.a), "b": ArmSpec.parse(args.b)}
    records, blocks = measure(args, specs)
    a, b = (np.median(pooled(blocks, name)) / 1e6 for name in ("a", "b"))
    label = f"{case_label(records['a'][0]['key'])}: {specs['b']} / {specs['a']}"
    outcome = Outcome(label, "PASS", ratio=block_ratio(blocks), baseline_ms=a, candidate_ms=b)
    judge([outcome], RatioGate(field="per-block min", threshold=args.threshold), args.alpha)
    summary: dict[str, Any] = {
        "log_ratios": log_ratios(blocks),
        "ratio": outcome.ratio.estimate,
        "ci": list(outcome.interval),
        "confidence": 1 - outcome.alpha,
        "threshold": args.threshold,
        "verdict": outcome.verdict,
    }
    path = save(args, specs, records, blocks, summary)
    code = publish(args, [outcome], [f"results: {path}"], "hwbench ab")
    return code
