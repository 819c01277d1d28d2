"""`hwbench ab`: two arms in one session, interleaved ABBA, judged like `hwbench gate`."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hwbench.analysis.gate import Outcome, RatioGate, judge
from hwbench.commands.gate import add_verdict_options, publish
from hwbench.commands.output import Steps, stderr_console
from hwbench.errors import UsageError
from hwbench.labels import case_label
from hwbench.machine import machine_name
from hwbench.results import files, store
from hwbench.results.record import CaseRecord

# The case, the suite, the A/B workers and the environment fingerprint import torch, so they are
# imported where they are used: every command module is imported to build `hwbench --help`.
if TYPE_CHECKING:
    from hwbench.case import Case
    from hwbench.execution.ab import ArmSpec, WorkerArm


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
    from hwbench.case import Case
    from hwbench.config import Suite

    suite = Suite(
        workloads=(args.workload,),
        sizes=(args.size,),
        scenarios=(args.scenario,),
        batches=(args.batch,),
        seed=args.seed,
        case_timeout_s=args.timeout,
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


@dataclass
class Reporting:
    """An arm that passes each batch of samples it takes (ns per step) to `seen`."""

    arm: WorkerArm
    seen: Callable[[str, list[float]], None]

    def samples(self, count: int) -> list[float]:
        found = self.arm.samples(count)
        self.seen(self.arm.name, found)
        return found


def block_lines(steps: Steps, per_arm: int, blocks: int) -> Callable[[str, list[float]], None]:
    """What the arms report their samples to: the bar moves on, and as a block's last batch
    arrives (`per_arm` samples of each arm) its fastest sample of each arm is printed."""
    block: dict[str, list[float]] = {"a": [], "b": []}
    count = 0

    def seen(name: str, found: list[float]) -> None:
        nonlocal count
        block[name] += found
        steps.advance(len(found) / (2 * per_arm))
        if all(len(samples) == per_arm for samples in block.values()):
            count += 1
            a, b = min(block["a"]) / 1e6, min(block["b"]) / 1e6  # ms
            line = f"block {count}/{blocks}: fastest a {a:.4g} ms, b {b:.4g} ms, b/a {b / a:.4f}"
            steps.done(line, 0)
            block.update(a=[], b=[])

    return seen


def measure(
    args: argparse.Namespace, specs: dict[str, ArmSpec], steps: Steps
) -> tuple[dict[str, CaseRecord], list[dict]]:
    """Start both workers, load the case in each, time the ABBA blocks; (records, blocks)."""
    from hwbench.execution.ab import ORDERS, WorkerArm, abba, pooled

    arms: dict[str, WorkerArm] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hwbench-ab-")))
        for name, spec in specs.items():
            arms[name] = WorkerArm(name, spec, args.timeout, tmp / f"stderr-{name}.txt")
            stack.callback(arms[name].close)
            arms[name].start_load(case_for(args, spec))
        for arm in arms.values():
            arm.finish_load()
        loops = max(arm.loops for arm in arms.values())  # same sample length for both
        for arm in arms.values():
            arm.loops = loops
        steps.doing("ABBA blocks")
        seen = block_lines(steps, args.samples * ORDERS[0].count("a"), args.blocks)
        reporting = {name: Reporting(arm, seen) for name, arm in arms.items()}
        blocks = abba(reporting, args.blocks, args.samples)
        return {name: arm.record(pooled(blocks, name)) for name, arm in arms.items()}, blocks


def save(args: argparse.Namespace, specs: dict, records: dict, summary: dict) -> Path:
    from hwbench.results.env import fingerprint

    config = {
        "ab": {k: str(v) for k, v in specs.items()},
        "blocks": args.blocks,
        "samples": args.samples,
    }
    document = store.new_results("ab", machine_name(args.machine), fingerprint(), config)
    document["cases"] = list(records.values())
    document["ab"] = summary
    return store.save_new(document, store.result_path(args.out, document["machine"], "ab"))


def main(args: argparse.Namespace) -> int:
    from hwbench.execution.ab import ArmSpec, block_ratio, log_ratios, pooled

    if args.blocks < 2 or args.samples < 1:
        raise UsageError(
            f"--blocks must be >= 2 and --samples >= 1, got {args.blocks}, {args.samples}"
        )
    specs = {"a": ArmSpec.parse(args.a), "b": ArmSpec.parse(args.b)}
    case_for(args, specs["a"])  # the settings, checked before anything starts
    files.check_writable(args.out / machine_name(args.machine))  # not after both arms are measured
    for output in (args.markdown, args.junit):
        if output is not None:
            files.check_output(output)
    with Steps(stderr_console(), total=args.blocks, description="loading both arms") as steps:
        records, blocks = measure(args, specs, steps)
    a, b = (np.median(pooled(blocks, name)) / 1e6 for name in ("a", "b"))
    label = f"{case_label(records['a'].key)}: {specs['b']} / {specs['a']}"
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
    path = save(args, specs, records, summary)
    code = publish(args, [outcome], [f"results: {path}"], "hwbench ab")
    return code
