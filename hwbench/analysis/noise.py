"""What a run's numbers can be trusted for: cases flagged `unstable`, and the run's own noise
floor measured by an A/A canary.

A case is unstable (pyperf warns alike, on a std over 10% of the mean or too few values) when
it has fewer than MIN_SAMPLES samples, no finite interval for its median, an interval wider
than +-MAX_REL_CI of the median, or passes whose medians differ by more than that and by more
than the interval explains.

The canary: a run times the same step twice wherever one target runs a workload both as
`latency b1` and as `throughput b1` (one code path, hwbench/scenarios/step.py, in two worker
processes at two places of the run). Their medians would agree on a quiet, stable machine;
how far they disagree is what a difference between two cases of this run can be made of
without any real change. The run's floor is the 90th percentile of those |A/A| differences
(the largest when fewer than 5 pairs); without pairs, the median spread between the passes of
each case.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from hwbench.labels import case_label, target_label
from hwbench.results.record import CaseRecord

MIN_SAMPLES = 10
MAX_REL_CI = 0.10  # fraction of the median
FEW_PAIRS = 5  # below this many A/A pairs the floor is their largest difference
CANARY = ("latency", "throughput")  # the two scenarios that time one step at batch 1


def pass_medians(case: CaseRecord) -> list[float]:
    """The median of each pass's samples (ns), in pass order; one value without passes."""
    samples = case.samples_ns
    bounds = [*case.sampling.pass_starts, len(samples)] if case.sampling.pass_starts else []
    slices = [samples[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return [float(np.median(s)) for s in slices] if slices else [float(np.median(samples))]


def rel_ci(latency: dict[str, Any]) -> float | None:
    """The half-width of the median's CI over the median; None when a bound is not finite."""
    low, high, median = (latency.get(k) for k in ("median_ci_low", "median_ci_high", "p50"))
    bounds = (low, high, median)
    if any(v is None or not math.isfinite(v) for v in bounds) or not median:
        return None
    return (high - low) / 2 / median


def unstable_reason(
    case: CaseRecord, min_samples: int = MIN_SAMPLES, max_rel_ci: float = MAX_REL_CI
) -> str:
    """Why a timed case's speed is not to be trusted ('' when it is, or has no speed)."""
    if not case.timed or "latency_ms" not in case.metrics or not case.samples_ns:
        return ""
    reasons = []
    count = len(case.samples_ns)
    if count < min_samples:
        reasons.append(f"{count} samples (fewer than {min_samples})")
    half = rel_ci(case.metrics["latency_ms"])
    if half is None:
        reasons.append("no finite 95% CI of the median")
    elif half > max_rel_ci:
        reasons.append(f"median's 95% CI +-{half:.1%} (wider than +-{max_rel_ci:.0%})")
    medians = pass_medians(case)
    spread = max(medians) / min(medians) - 1
    if len(medians) > 1 and spread > max_rel_ci and spread > 2 * (half or 0):
        reasons.append(f"its {len(medians)} passes' medians differ by {spread:.0%}")
    return "; ".join(reasons)


def canary_pairs(cases: Iterable[CaseRecord]) -> list[dict[str, Any]]:
    """Each (workload, target) timed both as latency b1 and throughput b1: the two medians
    (ms) and their ratio, throughput over latency."""
    found: dict[str, dict[str, float]] = {}
    for case in cases:
        key = case.key
        if case.timed and key["scenario"] in CANARY and key["batch"] == 1:
            twin = f"{case_label({**key, 'scenario': 'latency/throughput'})} {target_label(key)}"
            found.setdefault(twin, {})[key["scenario"]] = case.metrics["latency_ms"]["p50"]
    pairs = []
    for twin, ms in found.items():
        if len(ms) == 2:
            latency, throughput = ms["latency"], ms["throughput"]
            pairs.append({"case": twin, "latency_ms": latency, "throughput_ms": throughput,
                          "ratio": throughput / latency})  # fmt: skip
    return pairs


def run_noise(cases: list[CaseRecord]) -> dict[str, Any] | None:
    """The run's noise block: the A/A pairs, their spread, the pass spread, and the floor
    below which differences between cases of this run are not meaningful (percent)."""
    pairs = canary_pairs(cases)
    logs = np.abs(np.log([p["ratio"] for p in pairs])) if pairs else np.array([])
    aa_pct = None
    if len(logs):
        q = float(np.quantile(logs, 0.9)) if len(logs) >= FEW_PAIRS else float(logs.max())
        aa_pct = 100 * math.expm1(q)
    spreads = [
        max(m) / min(m) - 1 for m in (pass_medians(c) for c in cases if c.timed) if len(m) > 1
    ]
    pass_pct = 100 * float(np.median(spreads)) if spreads else None
    floor = aa_pct if aa_pct is not None else pass_pct
    if floor is None:
        return None
    basis = f"A/A canary, {len(pairs)} pairs" if aa_pct is not None else "spread between passes"
    return {
        "meaningful_pct": floor,
        "basis": basis,
        "aa_spread_pct": aa_pct,
        "aa_median_pct": 100 * math.expm1(float(np.median(logs))) if len(logs) else None,
        "pass_spread_pct": pass_pct,
        "pairs": pairs,
        "note": f"differences below {floor:.0f}% are not meaningful in this run ({basis})",
    }


def within_floor(ratio: float, floor_pct: float) -> bool:
    """Whether a ratio of two medians is closer to 1 than the floor, either way."""
    return 1 / (1 + floor_pct / 100) < ratio < 1 + floor_pct / 100


def noise_floor_pct(documents: Iterable[dict[str, Any]]) -> float | None:
    """The largest noise floor among documents that measured one (None if none did)."""
    floors = [(d.get("noise") or {}).get("meaningful_pct") for d in documents]
    known = [f for f in floors if f is not None]
    return max(known) if known else None
