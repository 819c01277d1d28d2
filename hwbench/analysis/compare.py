"""Which cases may be compared, and the ratio of their medians with a confidence interval.

Ratios are candidate / baseline of median step times (above 1: the candidate is slower). The
interval is on the log scale, from the standard error of log(ratio): a circular block
bootstrap of each side's time-ordered samples for two result files (blocks keep bursts of
interference together), or the spread of paired per-block log-ratios for A/B runs (a
trimmed mean, with Yuen's standard error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri, stdtr, stdtrit  # scipy.stats costs 0.5 s to import

from hwbench.errors import UsageError
from hwbench.labels import case_label, target_label
from hwbench.results.record import CaseRecord

# What a case is, apart from where it ran: cases compared across targets share all of these.
SLOT_FIELDS = (
    "workload", "size", "dtype", "scenario", "batch", "model_path", "seed",
    "prompt_len", "output_len", "request_rate", "burstiness",  # generate and serve
)  # fmt: skip
# What must agree for a comparison to mean anything; named when it does not.
IDENTITY_FIELDS = ("workload", "size", "dtype", "input_shapes", "output_len")
RESAMPLES = 2000
MAX_RESAMPLED = 50_000_000  # samples drawn per bootstrap at most (bounds time and memory)
CHUNK = 2_000_000  # samples drawn per vectorized batch


@dataclass(frozen=True)
class Ratio:
    """log(candidate / baseline) with its standard error; `df` is inf for a normal interval."""

    log: float
    se: float
    df: float = math.inf

    @property
    def estimate(self) -> float:
        return math.exp(self.log)

    def p_value(self) -> float:
        """Two-sided p-value of "no change" (ratio 1)."""
        if self.se == 0:
            return 1.0 if self.log == 0 else 0.0
        z = -abs(self.log) / self.se
        return float(2 * (ndtr(z) if math.isinf(self.df) else stdtr(self.df, z)))

    def interval(self, alpha: float) -> tuple[float, float]:
        """The (1 - alpha) confidence interval of the ratio."""
        q = 1 - alpha / 2
        crit = float(ndtri(q) if math.isinf(self.df) else stdtrit(self.df, q))
        return (math.exp(self.log - crit * self.se), math.exp(self.log + crit * self.se))


def bootstrap_log_medians(samples: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """log(median) of circular-block resamples of time-ordered `samples`."""
    values = np.log(np.asarray(samples, dtype=float))
    n = len(values)
    block = max(1, round(n ** (1 / 3)))  # the n^(1/3) rate of Hall, Horowitz & Jing (1995)
    resamples = int(np.clip(MAX_RESAMPLED // n, 200, RESAMPLES))
    per_chunk = max(1, CHUNK // n)
    out = []
    for start in range(0, resamples, per_chunk):
        count = min(per_chunk, resamples - start)
        starts = rng.integers(0, n, size=(count, -(-n // block), 1))
        index = ((starts + np.arange(block)) % n).reshape(count, -1)[:, :n]
        out.append(np.median(values[index], axis=1))
    return np.concatenate(out)


def ratio_of_medians(
    baseline_ns: Sequence[float], candidate_ns: Sequence[float], seed: int = 0
) -> Ratio:
    """Median ratio of two independent runs; its standard error by block bootstrap."""
    if len(baseline_ns) < 2 or len(candidate_ns) < 2:
        raise UsageError("a ratio needs at least 2 samples on each side")
    rng = np.random.default_rng(seed)
    base, cand = bootstrap_log_medians(baseline_ns, rng), bootstrap_log_medians(candidate_ns, rng)
    log = math.log(float(np.median(candidate_ns)) / float(np.median(baseline_ns)))
    return Ratio(log, math.sqrt(float(np.var(base, ddof=1) + np.var(cand, ddof=1))))


def ratio_to_history(history_ns: Sequence[Sequence[float]], candidate_ns: Sequence[float]) -> Ratio:
    """One candidate run against k >= 2 baseline runs of the same case taken at other times
    (main's last runs, say): log ratio of the candidate's median to the geometric mean of the
    baseline medians; standard error that of predicting one more run from their run-to-run
    spread, s * sqrt(1 + 1/k), with k - 1 degrees of freedom (Student's t prediction
    interval), and never below the candidate's own within-run bootstrap error. Drift between
    runs, which one pair of files cannot show, widens the interval instead of failing."""
    if len(history_ns) < 2:
        raise UsageError("a baseline history needs at least 2 runs")
    if len(candidate_ns) < 2:
        raise UsageError("a ratio needs at least 2 samples on each side")
    logs = np.log([float(np.median(run)) for run in history_ns])
    k = len(logs)
    spread = float(np.std(logs, ddof=1)) * math.sqrt(1 + 1 / k)
    within = float(np.std(bootstrap_log_medians(candidate_ns, np.random.default_rng(0)), ddof=1))
    log = math.log(float(np.median(candidate_ns))) - float(logs.mean())
    return Ratio(log, max(spread, within), df=k - 1)


def paired_ratio(log_ratios: Sequence[float], trim: float = 0.2) -> Ratio:
    """Trimmed mean of paired log-ratios with Yuen's standard error (from the winsorized
    variance) and h - 1 degrees of freedom, h the count kept; a block hit by a burst of
    interference moves neither much."""
    values = np.asarray(log_ratios, dtype=float)
    n, cut = len(values), int(trim * len(values))
    kept = n - 2 * cut
    if kept < 2:
        raise UsageError(f"a paired ratio needs at least 2 blocks after trimming, got {n}")
    ordered = np.sort(values)
    winsorized = np.clip(values, ordered[cut], ordered[n - cut - 1])
    se = math.sqrt((n - 1) * float(np.var(winsorized, ddof=1)) / (kept * (kept - 1)))
    return Ratio(float(ordered[cut : n - cut].mean()), se, df=kept - 1)


def slot(key: dict[str, Any]) -> tuple:
    """The case apart from its target (engine, device, options)."""
    return tuple(_hashable(key.get(field)) for field in SLOT_FIELDS)


def run_key(key: dict[str, Any]) -> tuple:
    """The full case key, minus the shapes the worker adds (checked apart)."""
    return tuple(sorted((k, _hashable(v)) for k, v in key.items() if k != "input_shapes"))


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def differences(a: dict[str, Any], b: dict[str, Any], fields: Sequence[str]) -> list[str]:
    """'field: A vs B' for each of `fields` where two keys disagree (absent fields agree)."""
    return [
        f"{field} {a[field]!r} vs {b[field]!r}"
        for field in fields
        if field in a and field in b and _hashable(a[field]) != _hashable(b[field])
    ]


def check_comparable(a: dict[str, Any], b: dict[str, Any], what: str) -> None:
    """UsageError naming the identity fields on which two case keys differ."""
    diff = differences(a, b, IDENTITY_FIELDS)
    if diff:
        raise UsageError(f"refusing to compare {what}: {'; '.join(diff)} differ")


@dataclass
class Arm:
    """The ok cases one target produced in one file, by slot."""

    label: str
    cases: dict[tuple, CaseRecord]


def arms(documents: list[tuple[str, dict[str, Any]]]) -> list[Arm]:
    """One arm per (file, target), in the order they appear; `documents` are (name, doc)."""
    found: dict[tuple[str, str], Arm] = {}
    for name, document in documents:
        for case in document["cases"]:
            target = target_label(case.key)
            label = target if len(documents) == 1 else f"{name} {target}"
            arm = found.setdefault((name, target), Arm(label, {}))
            if case.status == "ok":
                arm.cases.setdefault(slot(case.key), case)
    return [arm for arm in found.values() if arm.cases]


def check_arms(baseline: Arm, others: list[Arm]) -> None:
    """UsageError unless each arm shares a slot with the baseline, with the same shapes."""
    for arm in others:
        shared = baseline.cases.keys() & arm.cases.keys()
        if not shared:
            diffs = [
                differences(a.key, b.key, (*SLOT_FIELDS, "input_shapes"))
                for a in baseline.cases.values()
                for b in arm.cases.values()
            ]
            nearest = "; ".join(min(diffs, key=len))
            raise UsageError(f"refusing to compare {arm.label} with {baseline.label}: {nearest}")
        for key in shared:
            check_comparable(baseline.cases[key].key, arm.cases[key].key, arm.label)


def median_ratio(baseline: CaseRecord, candidate: CaseRecord) -> Ratio:
    return ratio_of_medians(baseline.samples_ns, candidate.samples_ns)


@dataclass(frozen=True)
class Cell:
    """One arm's median (ms) for one case, and its ratio to the first arm's."""

    median_ms: float
    ratio: Ratio | None


def comparison(arm_list: list[Arm]) -> list[tuple[str, list[Cell | None]]]:
    """Per case (slot): a cell for each arm, None where the arm lacks the case."""
    baseline = arm_list[0]
    rows = []
    for key_slot in dict.fromkeys(s for arm in arm_list for s in arm.cases):
        cells: list[Cell | None] = []
        for arm in arm_list:
            case = arm.cases.get(key_slot)
            base = baseline.cases.get(key_slot) if arm is not baseline else None
            ratio = median_ratio(base, case) if case and base else None
            cells.append(Cell(case.metrics["latency_ms"]["p50"], ratio) if case else None)
        first = next(arm.cases[key_slot] for arm in arm_list if key_slot in arm.cases)
        rows.append((case_label(first.key), cells))
    return rows
