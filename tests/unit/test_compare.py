"""Which cases compare (and the refusals that name the difference), and ratio intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwbench.analysis.compare import (
    Ratio,
    arms,
    check_arms,
    comparison,
    paired_ratio,
    ratio_of_medians,
)
from hwbench.errors import UsageError
from hwbench.labels import case_label, target_label
from hwbench.results import store
from hwbench.results.record import CaseRecord
from tests.records import KEY, record


def case(median_ns: float = 1e6, seed: int = 0, **key: object) -> CaseRecord:
    samples = list(median_ns * np.random.default_rng(seed).lognormal(0, 0.02, 100))
    latency = {"p50": float(np.median(samples)) / 1e6}
    return record(key, samples_ns=samples, metrics={"latency_ms": latency})


def document(*cases: CaseRecord) -> dict:
    doc = store.new_results("t", "m", {}, {})
    doc["cases"] = list(cases)
    return doc


def test_labels() -> None:
    assert case_label(KEY) == "mlp/tiny latency b1"
    assert target_label({**KEY, "dtype": "bf16", "options": {"m": 1}}) == "torch@cpu:dtype=bf16,m=1"
    assert target_label({**KEY, "options": {"mode": "max"}}) == "torch@cpu:mode=max"
    assert target_label({**KEY, "arm": "b"}) == "torch@cpu [b]"


def test_backend_against_backend_within_one_file() -> None:
    doc = document(case(1e6), case(2e6, seed=1, engine="onnxruntime"))
    arm_list = arms([("run", doc)])
    assert [a.label for a in arm_list] == ["torch@cpu", "onnxruntime@cpu"]
    check_arms(arm_list[0], arm_list[1:])
    [(label, [first, second])] = comparison(arm_list)
    assert label == "mlp/tiny latency b1" and first.ratio is None
    assert second.ratio.estimate == pytest.approx(2.0, rel=0.02)


def test_run_against_run_pairs_the_same_target() -> None:
    arm_list = arms([("a", document(case(1e6))), ("b", document(case(1.1e6, seed=2)))])
    assert [a.label for a in arm_list] == ["a torch@cpu", "b torch@cpu"]
    [(_, [_, cell])] = comparison(arm_list)
    low, high = cell.ratio.interval(0.05)
    assert low < 1.1 < high


@pytest.mark.parametrize(
    ("field", "value"),
    [("dtype", "bf16"), ("workload", "bert"), ("size", "small"), ("input_shapes", [[1, 512]])],
)
def test_refuses_cases_that_differ_and_says_which_field(field: str, value: object) -> None:
    arm_list = arms([("a", document(case())), ("b", document(case(**{field: value})))])
    with pytest.raises(UsageError, match=rf"refusing to compare.*{field}"):
        check_arms(arm_list[0], arm_list[1:])


def test_ratio_interval_covers_the_true_ratio() -> None:
    rng = np.random.default_rng(3)
    covered = 0
    for trial in range(40):
        base = 1e6 * rng.lognormal(0, 0.05, 60)
        cand = 1.07e6 * rng.lognormal(0, 0.05, 60)
        low, high = ratio_of_medians(base, cand, seed=trial).interval(0.05)
        covered += low < 1.07 < high
    assert covered >= 34  # 95% nominal; 34/40 leaves room for sampling error


def test_ratio_p_value_and_interval_agree() -> None:
    ratio = Ratio(math.log(1.1), 0.04)
    low, _ = ratio.interval(ratio.p_value())
    assert low == pytest.approx(1.0)
    assert Ratio(0.0, 0.0).p_value() == 1.0 and Ratio(0.1, 0.0).p_value() == 0.0


def test_paired_ratio_uses_the_t_distribution() -> None:
    ratio = paired_ratio([0.10, 0.12, 0.08, 0.11])
    assert ratio.df == 3 and ratio.estimate == pytest.approx(math.exp(0.1025))
    with pytest.raises(UsageError):
        paired_ratio([0.1])
