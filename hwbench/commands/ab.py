"""`hwbench ab`: two arms in one session, interleaved ABBA, each case sampled until decided
(or for a fixed count of blocks), judged like `hwbench gate`."""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hwbench.analysis.gate import Outcome, judge
from hwbench.commands.gate import add_verdict_options, publish
from hwbench.commands.output import Steps, stderr_console
from hwbench.labels import case_label
from hwbench.machine import machine_name
from hwbench.results import files, store
from hwbench.results.record import CaseRecord

# The case, the suite, the A/B workers and the environment fingerprint import torch, so they are
# imported where they are used: every command module is imported to build `hwbench --help`.
if TYPE_CHECKING:
    from hwbench.case import Case
    from hwbench.execution.ab import ArmSpec, WorkerArm
    from hwbench.execution.ab_suite import CaseRun, Design

Records = dict[str, dict[str, CaseRecord]]  # case label -> arm -> its record


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    ab = subparsers.add_parser(
        "ab", help="A/B: two targets or installs timed interleaved (ABBA) in one session"
    )
    ab.add_argument("--a", required=True, metavar="SPEC", help="TARGET or python=PATH:TARGET")
    ab.add_argument("--b", required=True, metavar="SPEC", help="TARGET or python=PATH:TARGET")
    ab.add_argument("--workload", action="append", help="workload name, repeatable (mlp)")
    ab.add_argument("--size", action="append", help="tiny, small or full, repeatable (tiny)")
    ab.add_argument("--scenario", action="append", help="latency or throughput, repeatable")
    ab.add_argument("--batch", type=int, action="append", help="batch size, repeatable (1)")
    ab.add_argument(
        "--design",
        default="sequential",
        help="sequential or fixed: sample each case until decided, or a fixed count of blocks "
        "(sequential)",
    )
    ab.add_argument(
        "--blocks", type=int, help="ABBA blocks a case: sequential, at most (128); fixed (12)"
    )
    ab.add_argument("--budget", metavar="TIME", help="for all cases, e.g. 120s or 2m (sequential)")
    ab.add_argument("--samples", type=int, default=5, help="samples per arm per half-block (5)")
    ab.add_argument("--seed", type=int, default=0, help="seed for weights and inputs")
    ab.add_argument("--timeout", type=float, default=600.0, help="seconds a worker may take")
    ab.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    ab.add_argument("--machine", help="folder name for this machine (default: host name)")
    add_verdict_options(ab)


def design_of(args: argparse.Namespace) -> Design:
    from hwbench.execution.ab_suite import Design, seconds

    budget = None if args.budget is None else seconds(args.budget)
    return Design(args.design, args.blocks, args.samples, budget)


def cases_for(args: argparse.Namespace, spec: ArmSpec) -> list[Case]:
    """The arm's cases; the Suite validates workloads, sizes, scenarios and batches."""
    from hwbench.case import Case
    from hwbench.config import Suite

    suite = Suite(
        workloads=tuple(args.workload or ("mlp",)),
        sizes=tuple(args.size or ("tiny",)),
        scenarios=tuple(args.scenario or ("latency",)),
        batches=tuple(args.batch or (1,)),
        seed=args.seed,
        case_timeout_s=args.timeout,
        targets=(),
    )
    found = itertools.product(suite.workloads, suite.sizes, suite.scenarios, suite.batches)
    return [
        Case(w, size, spec.target, scenario, batch, seed=args.seed, harness=suite.harness)
        for w, size, scenario, batch in found
    ]


def label_of(case: Case) -> str:
    return case_label(
        {"workload": case.workload, "size": case.size, "scenario": case.scenario,
         "batch": case.batch}
    )  # fmt: skip


@dataclass
class Reporting:
    """An arm that passes each batch of samples it takes (ns per step) to `seen`."""

    arm: WorkerArm
    seen: Callable[[str, list[float]], None]

    def samples(self, count: int) -> list[float]:
        found = self.arm.samples(count)
        self.seen(self.arm.name, found)
        return found


def block_lines(
    steps: Steps, per_arm: int, most: int, taken: int
) -> Callable[[str, list[float]], None]:
    """What a case's arms report their samples to: the bar moves on, and as a block's last batch
    arrives (`per_arm` samples of each arm) its fastest sample of each arm is printed; `taken`:
    the case's blocks before these, `most` its most."""
    block: dict[str, list[float]] = {"a": [], "b": []}
    count = taken

    def seen(name: str, found: list[float]) -> None:
        nonlocal count
        block[name] += found
        steps.advance(len(found) / (2 * per_arm))
        if all(len(samples) == per_arm for samples in block.values()):
            a, b = min(block["a"]) / 1e6, min(block["b"]) / 1e6  # ms
            count += 1
            line = f"block {count}/{most}: fastest a {a:.4g} ms, b {b:.4g} ms, b/a {b / a:.4f}"
            steps.done(line, 0)
            block.update(a=[], b=[])

    return seen


def look_line(steps: Steps, threshold: float) -> Callable[[CaseRun, str], None]:
    """What each look prints: the case, its ratio so far and what happens next."""

    def on_look(case: CaseRun, then: str) -> None:
        ratio = case.ratio()
        steps.done(
            f"{case.label}: {len(case.blocks)} blocks, look {case.looks.index(len(case.blocks))}"
            f" of {len(case.looks.counts)}: b/a {ratio.estimate:.4f}, {case.verdict} "
            f"(threshold {threshold:.0%}): {then}",
            case.looks.counts[-1] - len(case.blocks) if case.stopped else 0,
        )

    return on_look


def reporting(steps: Steps, samples: int, most: int) -> Callable[..., dict[str, Reporting]]:
    """Stands between a case's arms and its sampling: the bar and a line per block."""
    from hwbench.execution.ab import ORDERS

    def wrap(label: str, blocks: list, arms: dict[str, WorkerArm]) -> dict[str, Reporting]:
        steps.doing(f"{label}: ABBA blocks")
        seen = block_lines(steps, samples * ORDERS[0].count("a"), most, len(blocks))
        return {name: Reporting(arm, seen) for name, arm in arms.items()}

    return wrap


def summary_of(case: CaseRun, outcome: Outcome) -> dict[str, Any]:
    from hwbench.execution.ab import log_ratios

    return {
        "case": case.label,
        "log_ratios": log_ratios(case.blocks),
        "ratio": outcome.ratio.estimate,
        "ci": list(outcome.interval),
        "confidence": 1 - outcome.alpha,
        "verdict": outcome.verdict,
        "blocks": len(case.blocks),
        "looks": list(case.looks.counts),
        "stopped": case.stopped,
        "seconds": case.seconds,
    }


def save(args: argparse.Namespace, specs: dict, design: Design, records: Records, summary: dict):
    from hwbench.results.env import fingerprint

    config = {
        "ab": {k: str(v) for k, v in specs.items()},
        "design": design.name,
        "blocks": design.looks.counts[-1],
        "samples": design.samples,
        "budget_s": design.budget_s,
    }
    document = store.new_results("ab", machine_name(args.machine), fingerprint(), config)
    document["cases"] = [record for arms in records.values() for record in arms.values()]
    document["ab"] = summary
    return store.save_new(document, store.result_path(args.out, document["machine"], "ab"))


def main(args: argparse.Namespace) -> int:
    from hwbench.execution.ab import ArmSpec, CaseArms, pooled
    from hwbench.execution.ab_suite import CaseRun, run_cases

    design = design_of(args)
    specs = {"a": ArmSpec.parse(args.a), "b": ArmSpec.parse(args.b)}
    cases = {name: cases_for(args, spec) for name, spec in specs.items()}  # checked up front
    labels = [label_of(case) for case in cases["a"]]
    files.check_writable(args.out / machine_name(args.machine))  # not after both arms are measured
    for output in (args.markdown, args.junit):
        if output is not None:
            files.check_output(output)
    runs = [CaseRun(label, design.looks) for label in labels]
    gate = design.gate(args.threshold)
    most = design.looks.counts[-1]
    by_label = {label: {name: cases[name][i] for name in specs} for i, label in enumerate(labels)}
    with Steps(stderr_console(), total=len(runs) * most, description="loading both arms") as steps:
        arms = CaseArms(specs, by_label, args.timeout, reporting(steps, args.samples, most))
        run_cases(
            runs, lambda case: arms.open(case.label, case.blocks), gate, args.alpha,
            args.samples, design.budget_s, look_line(steps, args.threshold),
        )  # fmt: skip
    outcomes = []
    for case in runs:
        a, b = (float(np.median(pooled(case.blocks, name))) / 1e6 for name in ("a", "b"))
        label = f"{case.label}: {specs['b']} / {specs['a']}"
        outcomes.append(Outcome(label, "PASS", ratio=case.ratio(), baseline_ms=a, candidate_ms=b))
    judge(outcomes, gate, args.alpha)
    for case, outcome in zip(runs, outcomes, strict=True):
        outcome.sampling = case.sampling
    spent = sum(case.seconds for case in runs)
    summary = {
        "design": design.name,
        "threshold": args.threshold,
        "alpha": args.alpha,
        "budget_s": design.budget_s,
        "seconds": spent,
        "cases": [summary_of(c, o) for c, o in zip(runs, outcomes, strict=True)],
    }
    path = save(args, specs, design, arms.records, summary)
    notes = [design_note(design, len(runs), spent), f"results: {path}"]
    return publish(args, outcomes, notes, "hwbench ab")


def design_note(design: Design, cases: int, spent: float) -> str:
    budget = f" of a {design.budget_s:g} s budget" if design.budget_s else ""
    if design.name == "fixed":
        how = f"fixed design: {design.looks.counts[0]} ABBA blocks a case, judged once"
    else:
        looks = ", ".join(map(str, design.looks.counts))
        how = (
            f"sequential design: each case judged after {looks} ABBA blocks until decided, "
            "alpha split over the looks (half at the first; Bonferroni) and "
            "Holm-corrected across cases (CIs at the level that holds over all looks); PASS "
            "once the CI's top is within the threshold, FAIL once the CI lies above 1 and "
            "reaches past the threshold"
        )
    return f"{how}; {cases} case(s) took {spent:.1f} s{budget}"
