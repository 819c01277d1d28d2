"""Unstable cases and a run's noise floor from its A/A canary pairs."""

from __future__ import annotations

import numpy as np
import pytest

from hwbench.analysis.noise import canary_pairs, noise_floor_pct, run_noise, unstable_reason
from hwbench.measure.stats import latency_ms
from hwbench.results.record import CaseRecord
from tests.records import record


def timed(median_ns: float = 1e6, n: int = 100, spread: float = 0.01, seed: int = 0,
          pass_starts: list[int] | None = None, **key: object) -> CaseRecord:  # fmt: skip
    samples = list(median_ns * np.random.default_rng(seed).lognormal(0, spread, n))
    sampling = {"pass_starts": pass_starts} if pass_starts else {}
    metrics = {"latency_ms": latency_ms(samples)}
    return record(key, samples_ns=samples, metrics=metrics, sampling=sampling)


def test_a_steady_case_with_enough_samples_is_stable() -> None:
    assert unstable_reason(timed()) == ""


def test_few_samples_and_an_infinite_interval_are_unstable_with_the_reason() -> None:
    reason = unstable_reason(timed(n=3))
    assert "3 samples (fewer than 10)" in reason and "no finite 95% CI" in reason


def test_a_wide_interval_is_unstable() -> None:
    assert "wider than +-10%" in unstable_reason(timed(spread=0.6, n=40))


def test_passes_that_disagree_are_unstable_though_each_is_tight() -> None:
    case = timed(n=90, spread=0.005, pass_starts=[0, 30, 60])
    slow = [s * (1.3 if 30 <= i < 60 else 1.0) for i, s in enumerate(case.samples_ns)]
    case = record(case.key, samples_ns=slow, metrics={"latency_ms": latency_ms(slow)},
                  sampling={"pass_starts": [0, 30, 60]})  # fmt: skip
    assert "3 passes' medians differ by 30%" in unstable_reason(case)


def test_untimed_cases_are_never_flagged() -> None:
    assert unstable_reason(record(status="failed", reason="boom")) == ""
    assert unstable_reason(record(parity={"rel_l2": 0.0})) == ""


def test_the_canary_pairs_latency_and_throughput_b1_of_one_target() -> None:
    cases = [
        timed(1.0e6, scenario="latency"),
        timed(1.2e6, seed=1, scenario="throughput"),
        timed(3.0e6, seed=2, scenario="throughput", batch=8),
        timed(1.0e6, seed=3, scenario="latency", dtype="bf16"),  # no twin
    ]
    [pair] = canary_pairs(cases)
    assert pair["case"] == "mlp/tiny latency/throughput b1 torch@cpu"
    assert pair["ratio"] == pytest.approx(1.2, rel=0.02)
    noise = run_noise(cases)
    assert noise["meaningful_pct"] == pytest.approx(20, abs=1)
    assert "not meaningful" in noise["note"] and noise["basis"] == "A/A canary, 1 pairs"


def test_the_floor_is_the_90th_percentile_with_enough_pairs() -> None:
    ratios = [1.01, 1.02, 0.97, 1.05, 1.0, 0.99, 1.5]
    cases = []
    for i, r in enumerate(ratios):
        cases += [timed(1e6, seed=i, scenario="latency", workload=f"w{i}"),
                  timed(1e6 * r, seed=i, scenario="throughput", workload=f"w{i}")]  # fmt: skip
    floor = run_noise(cases)["meaningful_pct"]
    assert 5 < floor < 50  # between the typical pair and the outlier
    assert noise_floor_pct([{"noise": {"meaningful_pct": floor}}, {}]) == floor
    assert noise_floor_pct([{}]) is None


def test_without_pairs_the_floor_is_the_spread_between_passes() -> None:
    noise = run_noise([timed(pass_starts=[0, 50])])
    assert noise["basis"] == "spread between passes" and noise["aa_spread_pct"] is None
    assert run_noise([timed()]) is None
