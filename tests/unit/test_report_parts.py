"""The parts of `hwbench report`: the headline, the comparison grids, the environment per
machine, the result rows, and how charts are split and roofed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hwbench.analysis.compare import compare
from hwbench.reporting import charts, details, headline
from hwbench.reporting.comparisons import ONE_TARGET, compared, grids
from hwbench.reporting.environment import environments, value_lines
from hwbench.reporting.html import html_report
from hwbench.results.record import NOT_TIMED
from tests.records import record

PEAK = {"peak_bytes_per_s": 1e11}


def timed(median_ms: float, key: dict[str, Any] | None = None, **fields: Any) -> Any:
    """An ok record of 60 samples around `median_ms`."""
    rng = np.random.default_rng(int(median_ms * 1000))
    samples = [s * 1e6 for s in median_ms * rng.lognormal(0, 0.02, 60)]
    p50 = float(np.median(samples)) / 1e6
    latency = {"p50": p50, "median_ci_low": p50 * 0.99, "median_ci_high": p50 * 1.01}
    return record(key, samples_ns=samples, metrics={"latency_ms": latency}, **fields)


def doc(machine: str = "m", cases: list | None = None, **fields: Any) -> dict[str, Any]:
    return {"machine": machine, "cases": cases or [], **fields}


def test_headline_names_the_fastest_target_per_case_with_its_interval() -> None:
    cases = [
        timed(10.0),
        timed(5.0, {"engine": "onnxruntime"}),
        timed(4.0, {"dtype": "bf16"}),
        timed(20.0, {"scenario": "throughput", "batch": 8}),
        timed(30.0, {"scenario": "throughput", "batch": 8, "engine": "onnxruntime"}),
    ]
    first, second = headline.wins(compare([("run", doc(cases=cases))]))
    assert (first.case, first.fastest, first.baseline) == (
        "mlp/tiny latency b1", "torch@cpu:dtype=bf16", "torch@cpu",
    )  # fmt: skip
    assert first.speedup == pytest.approx(2.5, rel=0.03)
    assert first.interval[0] < first.speedup < first.interval[1]
    assert first.flags == ("bf16 vs fp32",)
    assert headline.speedup_text(first).startswith("2.5")
    assert (second.fastest, second.speedup) == ("torch@cpu", None)
    assert headline.speedup_text(second) == "baseline is fastest"


def test_headline_flags_unstable_cases_and_the_noise_floor() -> None:
    cases = [timed(10.0), timed(9.0, {"engine": "onnxruntime"}, unstable="12 samples")]
    noisy = doc(cases=cases, noise={"meaningful_pct": 25.0, "note": "below 25%"})
    (found,) = compared([("run", noisy)], "target")
    (win,) = headline.wins(found.comparison, found.floor_pct)
    assert "onnxruntime@cpu unstable: 12 samples" in win.flags
    assert "below the run's noise floor (25%)" in win.flags
    assert headline.noise_lines([("run", noisy)]) == ["run: below 25%"]


def test_one_target_says_nothing_to_compare_and_the_report_still_renders() -> None:
    documents = [("run", doc(cases=[timed(1.0)]))]
    (found,) = compared(documents, "target")
    assert (found.comparison, found.note) == (None, ONE_TARGET)
    assert ONE_TARGET in html_report(documents, "t")


def test_grids_turn_many_targets_down_the_page_and_drop_single_cells() -> None:
    cases = [timed(1.0 + n / 10, {"options": {"threads": n}}) for n in range(8)]
    cases.append(timed(3.0, {"batch": 8, "options": {"threads": 0}}))  # one target only
    ((header, rows),) = grids(compare([("run", doc(cases=cases))]), "mlp/tiny")
    assert header == ["target", "latency b1"]
    assert [row[0] for row in rows][:2] == [["torch@cpu:threads=0 (baseline)"],
                                           ["torch@cpu:threads=1"]]  # fmt: skip
    assert rows[1][1][1].startswith("x1.1 [")


def test_environment_is_one_table_per_machine_listing_its_files() -> None:
    def env(commit: str, torch: str) -> dict[str, Any]:
        packages = {"torch": torch, "vllm": None}
        return {"cpu": "EPYC", "git": {"commit": commit}, "packages": packages}

    documents = [
        ("r1", doc("m1", environment=env("a" * 40, "2.5"), created="t1")),
        ("r2", doc("m2", environment=env("b" * 40, "2.5"), created="t2")),
        ("r3", doc("m1", environment=env("c" * 40, "2.6"), created="t3")),
    ]
    first, second = environments(documents)
    assert (first.machine, first.files, second.files) == ("m1", [("r1", "t1"), ("r3", "t3")],
                                                          [("r2", "t2")])  # fmt: skip
    rows = dict(first.rows)
    assert value_lines(rows["CPU"], 2) == ["EPYC"]
    commits = [f"{'a' * 40} (r1)", f"{'c' * 40} (r3)"]
    assert value_lines(rows["hwbench commit"], 2) == commits
    assert value_lines(dict(first.packages)["torch"], 2) == ["2.5 (r1)", "2.6 (r3)"]
    assert first.missing == ["vllm"]


def test_a_check_only_case_shows_its_parity_and_no_speed() -> None:
    checked = record(reason=NOT_TIMED, parity={"rel_l2": 2e-7, "passed": True})
    row = details.case_row(checked)
    assert row[:3] == ["mlp/tiny latency b1", "torch@cpu", "ok"]
    assert row[3:10] == [""] * 7 and row[10:] == ["2.0e-07", NOT_TIMED]


def test_an_unstable_case_says_so_in_its_status_and_note() -> None:
    row = details.case_row(timed(1.0, unstable="9 samples (fewer than 10)"))
    assert row[2] == "ok unstable" and row[-1] == "9 samples (fewer than 10)"
    assert row[3].startswith("1") and "[" in row[3]


def test_charts_hold_at_most_six_series_split_evenly() -> None:
    parts = charts.split("t", {str(n): n for n in range(13)})
    assert [title for title, _ in parts] == ["t (1/3)", "t (2/3)", "t (3/3)"]
    assert [len(part) for _, part in parts] == [5, 5, 3]
    assert charts.split("t", {"a": 1}) == [("t", {"a": 1})]


def test_each_dtype_gets_its_own_roof() -> None:
    def roofed(dtype: str, flops: float) -> Any:
        roof = {"flops_per_step": 1e6, "bytes_per_step": 1e4, "flops_per_s": 1e9,
                "measured": {"peak_flops_per_s": flops, **PEAK}}  # fmt: skip
        return timed(1.0, {"dtype": dtype}, roofline=roof)

    placed = [("run", "m", roofed("fp32", 1e12)), ("run", "m", roofed("bf16", 4e12))]
    points, roofs = charts.roof_points(placed)
    assert roofs == {("fp32", "measured"): (1e12, 1e11), ("bf16", "measured"): (4e12, 1e11)}
    assert points["torch@cpu:dtype=bf16"] == ("bf16", [(100.0, 1e9)])


def test_a_roofline_of_one_point_without_peaks_draws() -> None:
    from hwbench.reporting import plots

    uri = plots.roofline("one point", {"torch@cpu": ("fp32", [(2.0, 1e9)])}, {})
    assert uri.startswith("data:image/png;base64,")
