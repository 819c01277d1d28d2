"""Performance gates: verdicts on candidate/baseline ratios, corrected across cases (Holm).

Per case, with the ratio r = candidate / baseline of medians and its confidence interval
[low, high] at the case's Holm-corrected level, and the threshold t (default 5%):
  FAIL          low > 1 (a slowdown, significant after correction) and r > 1 + t;
  PASS          high <= 1 + t (any slowdown is within the threshold; speed-ups land here);
  INCONCLUSIVE  otherwise: the interval reaches past 1 + t but does not show a slowdown past it.
A speed-up (r < 1) can never FAIL. A case that ran in the baseline and failed in the candidate
FAILs; one that ran in the baseline and is not in the candidate is MISSING. Exit code: 1 when any
case FAILs, else 0 (INCONCLUSIVE and MISSING pass unless asked otherwise: --inconclusive-fails,
--require-all).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwbench.analysis.compare import (
    Ratio,
    check_comparable,
    differences,
    ratio_to_history,
    run_key,
)
from hwbench.errors import UsageError
from hwbench.labels import label
from hwbench.results.record import CaseRecord

PASS, INCONCLUSIVE, FAIL, MISSING = "PASS", "INCONCLUSIVE", "FAIL", "MISSING"
VERDICTS = (PASS, INCONCLUSIVE, FAIL, MISSING)
EXIT_PASS, EXIT_FAIL = 0, 1


@dataclass(frozen=True)
class RatioGate:
    """Fails a case whose `field` got significantly slower, by more than `threshold`."""

    field: str = "median"
    threshold: float = 0.05  # fraction: 0.05 is 5% slower

    def verdict(self, ratio: Ratio, alpha: float) -> str:
        low, high = ratio.interval(alpha)
        if low > 1 and ratio.estimate > 1 + self.threshold:
            return FAIL
        return PASS if high <= 1 + self.threshold else INCONCLUSIVE

    def fails(self, ratio: Ratio, alpha: float) -> str | None:
        """Why the case fails, or None."""
        if self.verdict(ratio, alpha) != FAIL:
            return None
        low, high = ratio.interval(alpha)
        return (
            f"{self.field} {ratio.estimate:.3f}x the baseline ({1 - alpha:.2%} CI "
            f"{low:.3f}-{high:.3f}): {self.slower_by()}"
        )

    def slower_by(self) -> str:
        """What a FAIL says of the slowdown's size."""
        return f"slower, by more than {self.threshold:.0%}"


@dataclass(frozen=True)
class StatusGate:
    """Fails a case that was ok in the baseline and is not in the candidate."""

    field: str = "status"
    threshold: str = "ok"

    def fails(self, baseline: CaseRecord, candidate: CaseRecord) -> str | None:
        before, now = getattr(baseline, self.field), getattr(candidate, self.field)
        if before != self.threshold or now == self.threshold:
            return None
        return f"{now} in the candidate: {candidate.reason}"


@dataclass
class Outcome:
    """One case's verdict; `alpha` is the level its interval was taken at."""

    label: str
    verdict: str
    message: str = ""
    ratio: Ratio | None = None
    alpha: float = 0.0
    baseline_ms: float | None = None
    candidate_ms: float | None = None
    sampling: str = ""  # A/B: blocks taken and why sampling stopped

    @property
    def interval(self) -> tuple[float, float] | None:
        return self.ratio.interval(self.alpha) if self.ratio else None


def holm_levels(p_values: list[float], alpha: float) -> list[float]:
    """Per-test levels such that p <= level exactly when Holm's step-down rejects at `alpha`."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    levels, adjusted = [0.0] * m, 0.0
    for rank, index in enumerate(order):
        p = p_values[index]
        adjusted = max(adjusted, min(1.0, (m - rank) * p))  # Holm's adjusted p-value
        levels[index] = alpha * p / adjusted if adjusted > 0 else alpha / (m - rank)
    return levels


def judge(outcomes: list[Outcome], gate: RatioGate, alpha: float) -> list[Outcome]:
    """Verdicts for the outcomes that carry a ratio, Holm-corrected among them."""
    rated = [o for o in outcomes if o.ratio is not None]
    levels = holm_levels([o.ratio.p_value() for o in rated], alpha)
    for outcome, level in zip(rated, levels, strict=True):
        outcome.alpha = level
        outcome.verdict = gate.verdict(outcome.ratio, level)
        outcome.message = gate.fails(outcome.ratio, level) or ""
    return outcomes


def failing(inconclusive_fails: bool = False, require_all: bool = False) -> set[str]:
    """The verdicts that fail the run: FAIL, and INCONCLUSIVE and MISSING when asked."""
    verdicts = {FAIL}
    if inconclusive_fails:
        verdicts.add(INCONCLUSIVE)
    if require_all:
        verdicts.add(MISSING)
    return verdicts


def exit_code(
    outcomes: list[Outcome], inconclusive_fails: bool = False, require_all: bool = False
) -> int:
    fails = failing(inconclusive_fails, require_all)
    return EXIT_FAIL if any(o.verdict in fails for o in outcomes) else EXIT_PASS


RatioOf = Callable[[CaseRecord, CaseRecord], Ratio]


def pair_cases(
    baseline: dict[str, Any],
    candidate: dict[str, Any],
    ratio_of: RatioOf,
    history: Sequence[dict[str, Any]] = (),
) -> tuple[list[Outcome], list[str]]:
    """Outcomes (unjudged) for cases with the same full key in both documents, MISSING for each
    case that ran ok in the baseline and is not in the candidate, and notes on the rest;
    `ratio_of(baseline_case, candidate_case)` gives a Ratio. `history`: earlier
    baseline documents; a case that ran ok in two or more of them and `baseline` is judged
    against their run-to-run spread (`ratio_to_history`) instead."""
    by_key = {run_key(case.key): case for case in baseline["cases"]}
    earlier = [
        {run_key(c.key): c for c in document["cases"] if c.status == "ok"} for document in history
    ]
    outcomes, notes, seen = [], [], set()
    for case in candidate["cases"]:
        key = run_key(case.key)
        base = by_key.get(key)
        name = label(case.key)
        if base is None:
            notes.append(f"{name}: not in the baseline")
            continue
        seen.add(key)
        check_comparable(base.key, case.key, name)
        runs = [base, *(cases[key] for cases in earlier if key in cases)]
        outcomes.extend(_outcome(name, runs, case, ratio_of, notes))
    for base in (c for c in baseline["cases"] if run_key(c.key) not in seen):
        if base.timed:
            outcomes.append(_missing(base))
        else:
            notes.append(f"{label(base.key)}: not in the candidate ({base.status} in the baseline)")
    if not seen:
        raise UsageError(f"no case matches between the two files: {_nearest(baseline, candidate)}")
    return outcomes, notes


def _outcome(
    label: str, runs: list[CaseRecord], case: CaseRecord, ratio_of: RatioOf, notes: list[str]
) -> list[Outcome]:
    """`runs`: the baseline's case first, then the same case in the earlier baselines."""
    base = runs[0]
    failure = StatusGate().fails(base, case)
    if failure:
        return [Outcome(label, FAIL, failure)]
    if base.status != "ok" or case.status != "ok":
        notes.append(f"{label}: not gated ({base.status} in the baseline, {case.status} now)")
        return []
    for run in runs[1:]:
        check_comparable(run.key, case.key, label)
    candidate_ms = case.metrics["latency_ms"]["p50"]
    if len(runs) >= 2:
        ratio = ratio_to_history([run.samples_ns for run in runs], case.samples_ns)
        medians = [run.metrics["latency_ms"]["p50"] for run in runs]
        baseline_ms = float(np.exp(np.mean(np.log(medians))))  # their geometric mean
    else:
        ratio, baseline_ms = ratio_of(base, case), base.metrics["latency_ms"]["p50"]
    return [Outcome(label, PASS, ratio=ratio, baseline_ms=baseline_ms, candidate_ms=candidate_ms)]


def _missing(base: CaseRecord) -> Outcome:
    ms = base.metrics["latency_ms"]["p50"]
    return Outcome(label(base.key), MISSING, "not in the candidate", baseline_ms=ms)


def _nearest(baseline: dict[str, Any], candidate: dict[str, Any]) -> str:
    """The differences between the two most alike cases of two documents."""
    pairs = [(a.key, b.key) for a in baseline["cases"] for b in candidate["cases"]]
    if not pairs:
        return "one of them has no cases"
    diffs = [differences(a, b, sorted(a.keys() | b.keys())) for a, b in pairs]
    return "; ".join(min(diffs, key=len)) + " differ"


def where_ran(document: dict[str, Any]) -> dict[str, Any]:
    """What says where a result ran: its machine name, CPU model, core counts and each
    accelerator's name (None where the document does not say)."""
    env = document.get("environment") or {}
    found = {"machine": document.get("machine")}
    found |= {name: env.get(name) for name in ("cpu", "physical_cores", "logical_cores")}
    for name, device in (document.get("devices") or {}).items():
        if name != "cpu":  # the environment's cpu already
            found[f"{name} device"] = (device.get("info") or {}).get("name")
    return found


def across_machines(baselines: Sequence[dict[str, Any]], candidate: dict[str, Any]) -> list[str]:
    """'baseline ran on X, candidate on Y: cpu, logical_cores differ', once for each baseline
    machine that is not the candidate's (a fact either side leaves out is not compared)."""
    now = where_ran(candidate)
    lines: list[str] = []
    for baseline in baselines:
        before = where_ran(baseline)
        differ = [k for k, v in before.items() if None not in (v, now.get(k)) and v != now[k]]
        line = (
            f"baseline ran on {_machine_text(before)}, candidate on {_machine_text(now)}: "
            f"{', '.join(differ)} differ"
        )
        if differ and line not in lines:
            lines.append(line)
    return lines


def _machine_text(where: dict[str, Any]) -> str:
    """'box (AMD EPYC 7B13, 2 cores, cuda: NVIDIA H200)'."""
    cores = where["logical_cores"] or where["physical_cores"]
    facts = [where["cpu"], f"{cores} cores" if cores else None]
    devices = {k.removesuffix(" device"): v for k, v in where.items() if k.endswith(" device")}
    facts += [f"{device}: {name}" for device, name in devices.items() if name]
    shown = ", ".join(str(f) for f in facts if f)
    return f"{where['machine']} ({shown})" if shown else str(where["machine"])
