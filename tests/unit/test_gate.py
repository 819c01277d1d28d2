"""Gate verdicts: the rules, Holm's correction, exit codes, pairing of two result files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hwbench.analysis.compare import Ratio, median_ratio, ratio_of_medians, ratio_to_history
from hwbench.analysis.gate import (
    EXIT_FAIL,
    EXIT_PASS,
    FAIL,
    INCONCLUSIVE,
    MISSING,
    PASS,
    Outcome,
    RatioGate,
    StatusGate,
    across_machines,
    exit_code,
    failing,
    holm_levels,
    judge,
    pair_cases,
)
from hwbench.errors import UsageError
from hwbench.results import store
from hwbench.results.record import CaseRecord
from tests.records import record

GATE = RatioGate(threshold=0.05)


def ratio_with_p(estimate: float, p: float) -> Ratio:
    """A normal-interval ratio whose two-sided p-value is `p`."""
    from scipy.special import ndtri

    return Ratio(math.log(estimate), abs(math.log(estimate)) / float(ndtri(1 - p / 2)))


def noisy(median_ns: float, n: int = 200, seed: int = 0) -> list[float]:
    return list(median_ns * np.random.default_rng(seed).lognormal(0, 0.03, n))


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (Ratio(math.log(1.5), 0.01), FAIL),  # clearly slower, past the threshold
        (Ratio(math.log(1.02), 0.002), PASS),  # significant, but within the threshold
        (Ratio(0.0, 0.2), INCONCLUSIVE),  # too wide to tell
        (Ratio(math.log(1.04), 0.01), INCONCLUSIVE),  # slower; may or may not be past 5%
        (Ratio(math.log(1.2), 0.2), INCONCLUSIVE),  # past the threshold, not significant
        (Ratio(math.log(0.5), 0.001), PASS),  # a speed-up
        (Ratio(math.log(0.5), 0.5), INCONCLUSIVE),  # a wide speed-up: still never FAIL
        (Ratio(0.0, 0.0), PASS),  # identical samples
    ],
)
def test_verdict_rules(ratio: Ratio, expected: str) -> None:
    assert GATE.verdict(ratio, 0.01) == expected
    assert (GATE.fails(ratio, 0.01) is not None) == (expected == FAIL)


def test_speed_ups_never_fail() -> None:
    for estimate in np.geomspace(0.1, 0.999, 25):
        for se in (0.0, 1e-4, 0.01, 0.1, 1.0):
            assert GATE.verdict(Ratio(math.log(estimate), se), 0.01) != FAIL


def test_fails_message_names_field_ratio_and_threshold() -> None:
    message = GATE.fails(Ratio(math.log(1.5), 0.01), 0.01)
    assert "median 1.500x" in message and "5%" in message


def test_holm_levels_match_the_step_down_procedure() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm at 0.05: 0.005 <= 0.05/4 rejects, 0.01 <= 0.05/3 rejects, 0.03 > 0.05/2 stops.
    levels = holm_levels(p, 0.05)
    assert [pi <= level for pi, level in zip(p, levels, strict=True)] == [True, False, False, True]


def test_holm_stops_at_the_first_acceptance_even_if_a_later_p_is_small_enough() -> None:
    levels = holm_levels([0.006, 0.008], 0.01)  # 0.006 > 0.01/2: nothing is rejected
    assert all(p > level for p, level in zip([0.006, 0.008], levels, strict=True))


def test_holm_correction_changes_the_verdict() -> None:
    single = [Outcome("a", PASS, ratio=ratio_with_p(1.2, 0.008))]
    assert judge(single, GATE, 0.01)[0].verdict == FAIL
    three = [Outcome(n, PASS, ratio=ratio_with_p(1.2, 0.008)) for n in "abc"]
    assert {o.verdict for o in judge(three, GATE, 0.01)} == {INCONCLUSIVE}
    low, high = three[0].interval
    assert low < 1 < high  # the interval shown is the corrected one


def test_exit_codes() -> None:
    assert exit_code([Outcome("a", PASS), Outcome("b", INCONCLUSIVE)]) == EXIT_PASS
    assert exit_code([Outcome("a", PASS), Outcome("b", FAIL)]) == EXIT_FAIL
    assert exit_code([Outcome("b", INCONCLUSIVE)], inconclusive_fails=True) == EXIT_FAIL


def test_status_gate() -> None:
    ok, failed = record(), record(status="failed", reason="parity: off")
    assert "parity: off" in StatusGate().fails(ok, failed)
    assert StatusGate().fails(failed, ok) is None
    assert StatusGate().fails(ok, ok) is None


def test_ratio_of_medians_from_samples() -> None:
    base = noisy(1e6)
    same = ratio_of_medians(base, base)
    assert same.estimate == 1.0 and GATE.verdict(same, 0.01) == PASS
    slower = ratio_of_medians(base, [s * 1.5 for s in base])
    assert slower.estimate == pytest.approx(1.5) and GATE.verdict(slower, 0.01) == FAIL
    low, high = ratio_of_medians(base, noisy(1.1e6, seed=1)).interval(0.01)
    assert low < 1.1 < high


def document(cases: list[CaseRecord]) -> dict:
    doc = store.new_results("t", "m", {}, {})
    doc["cases"] = cases
    return doc


def case(samples: list[float], status: str = "ok", **key: object) -> CaseRecord:
    p50 = float(np.median(samples)) / 1e6
    metrics = {"latency_ms": {"p50": p50}}
    return record(key, status=status, samples_ns=samples, metrics=metrics, reason="boom")


def test_pair_cases_matches_full_keys_and_notes_the_rest() -> None:
    base = document([case(noisy(1e6)), case(noisy(1e6), batch=8)])
    cand = document([case(noisy(1e6)), case(noisy(1e6), engine="other")])
    outcomes, notes = pair_cases(base, cand, median_ratio)
    assert [o.verdict for o in outcomes] == [PASS, MISSING]  # PASS: not judged yet
    assert any("not in the baseline" in n for n in notes)  # a new case is only a note


def test_a_case_the_candidate_lacks_is_missing_and_fails_only_when_all_are_required() -> None:
    never_ran = record({"batch": 4}, status="skipped", reason="no cuda")
    base = document([case(noisy(1e6)), case(noisy(1e6), batch=8), never_ran])
    outcomes, notes = pair_cases(base, document([case(noisy(1e6))]), median_ratio)
    judge(outcomes, GATE, 0.01)
    [missing] = [o for o in outcomes if o.verdict == MISSING]
    assert missing.message == "not in the candidate" and "b8" in missing.label
    assert missing.baseline_ms == pytest.approx(1.0, rel=0.05) and missing.ratio is None
    assert any("b4" in n and "not in the candidate (skipped" in n for n in notes)
    assert exit_code(outcomes) == EXIT_PASS
    assert exit_code(outcomes, require_all=True) == EXIT_FAIL
    assert failing(True, True) == {FAIL, INCONCLUSIVE, MISSING} and failing() == {FAIL}


def test_pair_cases_fails_a_case_that_broke() -> None:
    base, cand = document([case(noisy(1e6))]), document([case([1.0], status="failed")])
    outcomes, _ = pair_cases(base, cand, None)
    assert outcomes[0].verdict == FAIL and "boom" in outcomes[0].message


def test_pair_cases_refuses_different_shapes() -> None:
    base = document([case(noisy(1e6))])
    cand = document([case(noisy(1e6), input_shapes=[[1, 512]])])
    with pytest.raises(UsageError, match="input_shapes"):
        pair_cases(base, cand, None)


def test_pair_cases_with_nothing_in_common_names_the_difference() -> None:
    base, cand = document([case(noisy(1e6))]), document([case(noisy(1e6), dtype="bf16")])
    with pytest.raises(UsageError, match="dtype 'fp32' vs 'bf16'"):
        pair_cases(base, cand, None)


def drifting_runs(count: int, drift: float, seed: int) -> list[list[float]]:
    """`count` runs of one case whose medians drift run to run by ~`drift` (log-normal)."""
    rng = np.random.default_rng(seed)
    return [noisy(1e6 * rng.lognormal(0, drift), seed=seed * 100 + i) for i in range(count)]


def test_history_judges_a_drifting_case_by_its_run_to_run_spread() -> None:
    # Run medians drift ~10% between runs (as on a shared runner); each run is tight (3%).
    runs = drifting_runs(6, 0.10, seed=3)
    *history, candidate = runs
    pair = ratio_of_medians(history[-1], candidate)
    spread = ratio_to_history(history, candidate)
    assert spread.se > 3 * pair.se  # the spread between runs, not within one
    assert spread.df == len(history) - 1

    fails = sum(
        GATE.verdict(ratio_to_history(h, c), 0.01) == FAIL
        for h, c in ((r[:-1], r[-1]) for r in (drifting_runs(6, 0.10, s) for s in range(60)))
    )
    assert fails == 0  # A against A: drift alone does not fail


def test_history_catches_a_large_slowdown_when_runs_are_steady() -> None:
    history = drifting_runs(8, 0.01, seed=5)
    slower = [s * 1.5 for s in noisy(1e6, seed=99)]
    assert GATE.verdict(ratio_to_history(history, slower), 0.01) == FAIL
    assert GATE.verdict(ratio_to_history(history, noisy(1e6, seed=98)), 0.01) == PASS


def test_history_needs_two_runs() -> None:
    with pytest.raises(UsageError, match="at least 2 runs"):
        ratio_to_history([noisy(1e6)], noisy(1e6))


def test_pair_cases_uses_the_history_when_a_case_has_two_baseline_runs() -> None:
    runs = drifting_runs(4, 0.10, seed=7)
    earlier = [document([case(run)]) for run in runs[:2]]
    base, cand = document([case(runs[2])]), document([case(runs[3])])
    [outcome], _ = pair_cases(base, cand, median_ratio, earlier)
    assert outcome.ratio == ratio_to_history(runs[:3], runs[3])
    medians = [float(np.median(run)) for run in runs[:3]]
    assert outcome.baseline_ms == pytest.approx(math.exp(np.mean(np.log(medians))) / 1e6)

    [alone], _ = pair_cases(base, cand, median_ratio)
    assert alone.ratio == median_ratio(base["cases"][0], cand["cases"][0])


def test_the_summary_heading_is_the_verdict_the_exit_code_gives() -> None:
    from hwbench.commands.gate import markdown

    def heading(verdicts: list[str], inconclusive_fails: bool = False) -> str:
        outcomes = [Outcome(str(i), v) for i, v in enumerate(verdicts)]
        text = markdown(outcomes, [], "gate", 0.05, inconclusive_fails)
        return text.splitlines()[0]

    assert heading([PASS, PASS]) == "## gate: PASS"
    assert heading([INCONCLUSIVE, INCONCLUSIVE]) == "## gate: INCONCLUSIVE"
    assert heading([PASS, INCONCLUSIVE]) == "## gate: INCONCLUSIVE"
    assert heading([PASS, FAIL]) == "## gate: FAIL"
    assert heading([INCONCLUSIVE], inconclusive_fails=True).startswith("## gate: FAIL")
    outcomes = [Outcome("a", INCONCLUSIVE)]
    assert exit_code(outcomes, True) == EXIT_FAIL and exit_code(outcomes) == EXIT_PASS


def test_missing_cases_are_counted_in_the_headline_summary_and_junit() -> None:
    from hwbench.commands.gate import junit, markdown

    outcomes = [Outcome("a", PASS), Outcome("b", MISSING, "not in the candidate")]
    text = markdown(outcomes, [], "gate", 0.05)
    assert text.startswith("## gate: PASS (1 of 2 cases MISSING)\n")
    assert "1 pass, 0 inconclusive, 0 fail, 1 missing;" in text
    assert "| b |  |  |  |  | **MISSING** not in the candidate |" in text
    required = markdown(outcomes, [], "gate", 0.05, require_all=True)
    assert required.startswith("## gate: FAIL (--require-all: 1 of 2 cases MISSING)")
    assert 'skipped="1"' in junit(outcomes, "gate") and "<failure" not in junit(outcomes, "gate")
    failed = junit(outcomes, "gate", failing(require_all=True))
    assert 'failures="1"' in failed and '<failure message="not in the candidate"' in failed


def environment(cpu: str = "AMD EPYC 7B13", cores: int | None = 2, gpu: str | None = None) -> dict:
    doc = document([])
    doc["environment"] = {"host": "h", "cpu": cpu, "physical_cores": cores, "logical_cores": cores}
    doc["devices"] = {"cuda": {"available": True, "info": {"name": gpu}}} if gpu else {}
    return doc


def test_a_baseline_from_another_machine_is_named_with_what_differs() -> None:
    here = environment()
    assert across_machines([here, environment()], here) == []
    [line] = across_machines([environment(cores=16), environment(cores=16)], here)
    assert line == (
        "baseline ran on m (AMD EPYC 7B13, 16 cores), candidate on m (AMD EPYC 7B13, 2 cores): "
        "physical_cores, logical_cores differ"
    )
    other = {**environment("Intel Xeon", gpu="NVIDIA H200"), "machine": "gpu-box"}
    [line] = across_machines([other], {**environment(gpu="NVIDIA H100"), "machine": "m"})
    assert "gpu-box (Intel Xeon, 2 cores, cuda: NVIDIA H200)" in line
    assert line.endswith("machine, cpu, cuda device differ")
    unknown = environment(cores=None)  # a fact one side leaves out is not compared
    assert across_machines([unknown], here) == []
