"""Which cases compare (and the refusals that name the difference), and ratio intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwbench.analysis.compare import (
    Ratio,
    compare,
    paired_ratio,
    ratio_of_medians,
)
from hwbench.errors import UsageError
from hwbench.labels import case_label, target_label
from hwbench.results import store
from hwbench.results.record import CaseRecord
from tests.records import KEY, record


def case(
    median_ns: float = 1e6, seed: int = 0, parity: dict | None = None, **key: object
) -> CaseRecord:
    samples = list(median_ns * np.random.default_rng(seed).lognormal(0, 0.02, 100))
    latency = {"p50": float(np.median(samples)) / 1e6}
    return record(key, samples_ns=samples, metrics={"latency_ms": latency}, parity=parity)


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
    result = compare([("run", doc)])
    assert result.columns == ["torch@cpu", "onnxruntime@cpu"] and result.baseline == "torch@cpu"
    [(label, [first, second])] = result.rows
    assert label == "mlp/tiny latency b1" and first.ratio is None
    assert second.ratio.estimate == pytest.approx(2.0, rel=0.02)


def test_two_precisions_of_one_target_in_one_file_compare() -> None:
    doc = document(
        case(2e6, parity={"rel_l2": 1e-7, "passed": True}),
        case(1e6, seed=1, dtype="bf16", parity={"rel_l2": 3e-3, "passed": True}),
    )
    result = compare([("run", doc)])
    assert result.columns == ["torch@cpu", "torch@cpu:dtype=bf16"]
    [(_, [fp32, bf16])] = result.rows
    assert bf16.across_precisions and not fp32.across_precisions and result.across_precisions
    assert (bf16.dtype, bf16.baseline_dtype, bf16.parity) == ("bf16", "fp32", "ok 3.0e-03")
    assert bf16.ratio.estimate == pytest.approx(0.5, rel=0.02)


def test_by_dtype_pairs_each_target_with_itself_in_another_precision() -> None:
    doc = document(
        case(2e6),
        case(1e6, seed=1, dtype="bf16"),
        case(3e6, seed=2, engine="onnxruntime"),
        case(1e6, seed=3, engine="onnxruntime", dtype="bf16"),
    )
    result = compare([("run", doc)], by="dtype")
    assert result.columns == ["fp32", "bf16"]
    assert [label for label, _ in result.rows] == [
        "mlp/tiny latency b1 torch@cpu",
        "mlp/tiny latency b1 onnxruntime@cpu",
    ]
    assert [cells[1].ratio.estimate for _, cells in result.rows] == pytest.approx(
        [0.5, 1 / 3], rel=0.03
    )


def test_across_machines_by_target_names_the_machine_and_by_machine_pairs_targets() -> None:
    a, b = document(case(1e6)), document(case(1.5e6, seed=2, device="cuda"))
    b["machine"] = "h200"
    by_target = compare([("a", a), ("b", b)])
    assert by_target.columns == ["m: torch@cpu", "h200: torch@cuda"]
    c = document(case(2e6, seed=4))
    c["machine"] = "other"
    by_machine = compare([("a", a), ("c", c)], by="machine")
    assert by_machine.columns == ["m", "other"]
    assert by_machine.rows[0][0] == "mlp/tiny latency b1 torch@cpu"


def test_run_against_run_pairs_the_same_target() -> None:
    result = compare([("a", document(case(1e6))), ("b", document(case(1.1e6, seed=2)))])
    assert result.columns == ["a torch@cpu", "b torch@cpu"]
    [(_, [_, cell])] = result.rows
    low, high = cell.ratio.interval(0.05)
    assert low < 1.1 < high
    assert compare([("a", document(case())), ("b", document(case()))], by="run").columns == [
        "a",
        "b",
    ]


def test_baseline_is_chosen_by_name_and_an_unknown_one_is_refused() -> None:
    doc = document(case(1e6), case(2e6, seed=1, engine="onnxruntime"))
    assert compare([("run", doc)], baseline="onnxruntime@cpu").baseline == "onnxruntime@cpu"
    with pytest.raises(UsageError, match="no column 'vllm@cpu'"):
        compare([("run", doc)], baseline="vllm@cpu")


def test_one_column_or_check_only_results_are_nothing_to_compare() -> None:
    untimed = record(parity={"rel_l2": 1e-7, "passed": True}, reason="not timed")
    with pytest.raises(UsageError, match="nothing to compare"):
        compare([("run", document(case(), untimed))])


@pytest.mark.parametrize(
    ("field", "value"),
    [("workload", "bert"), ("size", "small"), ("input_shapes", [[1, 512]])],
)
def test_refuses_cases_that_differ_and_says_which_field(field: str, value: object) -> None:
    with pytest.raises(UsageError, match=rf"refusing to compare.*{field}"):
        compare([("a", document(case())), ("b", document(case(**{field: value})))])


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
