"""Gate quality, measured on this machine's real noise: how often the gate FAILs with no change
(A/A), with an injected slowdown (+5%, +10%) and with a speed-up (-5%, -10%), for the
two-file gate (two separate runs, taken at random times during the script), for the two-file
gate given a history of five baseline runs, both again with each run's samples taken in three
passes at different times (as `hwbench run` takes them), and for the A/B mode (both arms
interleaved ABBA in one session).

The workload is synthetic and of calibrated cost: a step is R single-threaded 64x64 matmuls,
with R set so a step lasts ~STEP_MS; a factor f runs round(f * R) of them, so its cost is f
times as much. Both modes time SAMPLES samples of one step per arm per comparison, with
hwbench's harness and CPU timer; verdicts come from hwbench.analysis.gate (threshold 5%,
alpha 0.01).
The A/B arms here are in-process callables; `hwbench ab` drives the same abba() and
block_ratio() through two worker processes.

Run: python benchmarks/gate_quality.py [--scale 0.25]   (~9 minutes at scale 1 on 2 cores)
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time
from collections import Counter
from dataclasses import replace

import numpy as np
import torch
from _report import publish
from rich.console import Console
from rich.table import Table

from hwbench.analysis.compare import ratio_of_medians, ratio_to_history
from hwbench.analysis.gate import FAIL, INCONCLUSIVE, PASS, Outcome, RatioGate, judge
from hwbench.backends.cpu import CPU
from hwbench.execution.ab import abba, block_ratio
from hwbench.measure.harness import HarnessConfig, Sampler, timed_loop

STEP_MS = 1.5
SAMPLES = 48  # per arm per comparison, in both modes
BLOCKS, PER_HALF = 12, 2  # A/B: 12 blocks x (2 + 2) samples per arm = 48
FACTORS = {"A/A": 1.0, "+10%": 1.10, "+5%": 1.05, "-5%": 0.95, "-10%": 0.90}
COUNTS = {"A/A": 400, "+10%": 200, "+5%": 200, "-5%": 200, "-10%": 200}
GATE, ALPHA = RatioGate(threshold=0.05), 0.01  # hwbench gate's and hwbench ab's defaults
RUN = HarnessConfig(
    warmup_s=0.003, warmup_runs=1, min_sample_s=0.0, min_samples=SAMPLES,
    max_samples=SAMPLES, min_time_s=0.0, target_rel_ci=0.0, time_budget_s=60.0,
)  # fmt: skip
TIMER = CPU().timer()
HISTORY = 5  # baseline runs in the history mode (e.g. main's last five runs)
PASSES = 3  # slices of a run in the interleaved layout (`hwbench run`'s default)
SLICED = replace(RUN, target_rel_ci=math.inf)  # slice p stops at p/PASSES of SAMPLES
DRIFT: dict[str, list[float]] = {"one go": [], "passes": []}  # |ratio - 1| of A/A pairs


class Synthetic:
    """A step of round(factor * reps) 64x64 matmuls."""

    operand = torch.randn(64, 64)

    def __init__(self, reps: int) -> None:
        self.reps = reps

    def __call__(self) -> None:
        for _ in range(self.reps):
            torch.mm(self.operand, self.operand)

    def samples(self, count: int) -> list[float]:
        return [float(timed_loop(self, TIMER, 1)) for _ in range(count)]


def calibrate_reps() -> int:
    probe = Synthetic(200)
    probe()
    best = min(timed_loop(probe, TIMER, 1) for _ in range(20))
    return round(200 * STEP_MS * 1e6 / best)


def verdict(ratio: object) -> str:
    outcome = Outcome("synthetic", PASS, ratio=ratio)
    return judge([outcome], GATE, ALPHA)[0].verdict


def two_file(
    reps: int, counts: dict[str, int], rng: random.Random
) -> dict[str, dict[str, dict[str, Counter]]]:
    """Each comparison: a baseline run and a candidate run, at independent random times, made
    twice: in one go, and in PASSES slices at independent random times (as `hwbench run`
    interleaves a case's passes with other cases). Each is judged against that one baseline
    run, and against a history of HISTORY baseline runs (its own and HISTORY - 1 others drawn
    from all comparisons' baseline runs)."""
    runs = [(c, i, side) for c, n in counts.items() for i in range(n) for side in "bc"]
    jobs = [(run, "one go", 0) for run in runs]
    jobs += [(run, "passes", p) for run in runs for p in range(PASSES)]
    rng.shuffle(jobs)
    samplers: dict[tuple, Sampler] = {}
    for (condition, index, side), layout, _ in jobs:
        key = (condition, index, side, layout)
        if key not in samplers:
            step = Synthetic(round(reps * (FACTORS[condition] if side == "c" else 1.0)))
            sliced = layout == "passes"
            samplers[key] = Sampler(step, TIMER, SLICED if sliced else RUN, PASSES if sliced else 1)
        samplers[key].sample_slice()
    return {
        layout: judge_pairs({k[:3]: s.result.samples_ns for k, s in samplers.items()
                             if k[3] == layout}, counts, rng, DRIFT[layout])
        for layout in ("one go", "passes")
    }  # fmt: skip


def judge_pairs(
    runs: dict[tuple, list[float]], counts: dict[str, int], rng: random.Random, drift: list
) -> dict[str, dict[str, Counter]]:
    """Verdicts of each comparison's pair of runs, alone and with a baseline history."""
    baselines = [key for key in runs if key[2] == "b"]
    tally: dict[str, Counter] = {c: Counter() for c in counts}
    history_tally: dict[str, Counter] = {c: Counter() for c in counts}
    for condition, n in counts.items():
        for i in range(n):
            own, candidate = runs[condition, i, "b"], runs[condition, i, "c"]
            ratio = ratio_of_medians(own, candidate, seed=i)
            tally[condition][verdict(ratio)] += 1
            if condition == "A/A":
                drift.append(abs(ratio.estimate - 1))
            others = rng.sample([k for k in baselines if k != (condition, i, "b")], HISTORY - 1)
            history = [runs[k] for k in others] + [own]
            history_tally[condition][verdict(ratio_to_history(history, candidate))] += 1
    return {"pair": tally, "history": history_tally}


def ab_mode(reps: int, counts: dict[str, int], rng: random.Random) -> dict[str, Counter]:
    """Each comparison: one ABBA session of both arms."""
    sessions = [c for c, n in counts.items() for _ in range(n)]
    rng.shuffle(sessions)
    tally: dict[str, Counter] = {c: Counter() for c in counts}
    for condition in sessions:
        arms = {"a": Synthetic(reps), "b": Synthetic(round(reps * FACTORS[condition]))}
        for arm in arms.values():
            arm.samples(1)  # warm
        tally[condition][verdict(block_ratio(abba(arms, BLOCKS, PER_HALF)))] += 1
    return tally


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion k/n."""
    p, z2 = k / n, z * z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


def judged(condition: str, tally: Counter) -> tuple[str, str, bool]:
    """(figure, target, met) for one condition."""
    n = sum(tally.values())
    fails = tally[FAIL]
    low, high = wilson(fails, n)
    if condition == "A/A":
        return f"FAIL {fails / n:.1%} (Wilson 95% <= {high:.2%})", "FAIL <= 1%", fails / n <= 0.01
    if condition == "+10%":
        return f"FAIL {fails / n:.1%} (Wilson 95% >= {low:.1%})", "FAIL >= 95%", fails / n >= 0.95
    if condition == "+5%":
        caught = fails + tally[INCONCLUSIVE]
        return f"FAIL or INCONCL. {caught / n:.1%}", "FAIL or INCONCL. >= 80%", caught / n >= 0.8
    return f"FAIL {fails / n:.1%}", "FAIL = 0", fails == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the comparisons")
    args = parser.parse_args()
    torch.set_num_threads(1)
    counts = {c: max(1, round(n * args.scale)) for c, n in COUNTS.items()}
    reps, rng, start = calibrate_reps(), random.Random(0), time.perf_counter()
    load_before = os.getloadavg()[0]
    pairs = two_file(reps, counts, rng)
    tallies = {
        "two-file gate": pairs["one go"]["pair"],
        f"two-file, {HISTORY} baseline runs": pairs["one go"]["history"],
        f"two-file, {PASSES} passes per run": pairs["passes"]["pair"],
        f"two-file, {PASSES} passes, {HISTORY} baseline runs": pairs["passes"]["history"],
        "A/B (ABBA)": ab_mode(reps, counts, rng),
    }
    minutes = (time.perf_counter() - start) / 60
    table = Table("mode", "injected", "n", "PASS", "INCONCL.", "FAIL", "figure", "target", "met",
                  title="gate quality (threshold 5%, alpha 0.01)")  # fmt: skip
    for mode, tally in tallies.items():
        for condition, counter in tally.items():
            figure, target, met = judged(condition, counter)
            table.add_row(mode, condition, str(sum(counter.values())), str(counter[PASS]),
                          str(counter[INCONCLUSIVE]), str(counter[FAIL]), figure, target,
                          "yes" if met else "NO")  # fmt: skip
    notes = [
        f"step: {reps} single-threaded 64x64 matmuls (~{STEP_MS} ms); {SAMPLES} samples per arm "
        f"per comparison (A/B: {BLOCKS} blocks x {PER_HALF}+{PER_HALF}); took {minutes:.1f} min",
        "two-file pairs: baseline and candidate runs taken at independent random times; "
        "their A/A |median ratio - 1|: p50 {:.1%}, p95 {:.1%}, p99 {:.1%} (run-to-run drift, "
        "which one run cannot show)".format(*np.percentile(DRIFT["one go"], [50, 95, 99])),
        f"{PASSES} passes per run: each run's {SAMPLES} samples taken in {PASSES} slices of "
        f"{SAMPLES // PASSES} at independent random times (hwbench.measure.harness.Sampler, "
        "as `hwbench run` interleaves a case's passes with other cases), pooled; "
        "A/A |median ratio - 1|: "
        "p50 {:.1%}, p95 {:.1%}, p99 {:.1%}".format(*np.percentile(DRIFT["passes"], [50, 95, 99])),
        f"two-file with {HISTORY} baseline runs: `hwbench gate --baseline` given {HISTORY} "
        "files; the candidate against their geometric mean, with a t prediction interval from "
        "their run-to-run spread (hwbench.analysis.compare.ratio_to_history)",
        f"load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(other developers' jobs share these cores: the noise is theirs, measured, not simulated)",
    ]
    if args.scale == 1:
        publish("gate_quality", table, notes)
    else:  # a trial run: printed, not kept
        Console().print(table, *notes)


if __name__ == "__main__":
    main()
