"""The sequential A/B design: its looks, its verdicts, its error rates under repeated looks
(simulated arms of known ratio and noise, fixed seeds), its stopping rules and the suite budget
spread by need (a fake clock)."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest

from hwbench.analysis.compare import Ratio
from hwbench.analysis.gate import FAIL, INCONCLUSIVE, PASS, Outcome, RatioGate, judge
from hwbench.analysis.sequential import LookRatio, Looks, SequentialGate
from hwbench.errors import UsageError
from hwbench.execution.ab_suite import (
    BUDGET,
    DECIDED,
    LAST_LOOK,
    CaseRun,
    Design,
    run_cases,
    seconds,
)

GATE = SequentialGate(threshold=0.05)


class Clock:
    """Fake time: arms advance it by what their samples cost."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Arm:
    """Samples of a step of `ns` nanoseconds with lognormal noise of `sigma` (log scale), and
    now and then (`burst` of the time) a sample slowed by interference, 1.2-3x."""

    def __init__(self, ns: float, sigma: float, rng: np.random.Generator, clock: Clock,
                 burst: float = 0.0, cost_s: float = 0.0) -> None:  # fmt: skip
        self.ns, self.sigma, self.rng, self.clock = ns, sigma, rng, clock
        self.burst, self.cost_s = burst, cost_s

    def samples(self, count: int) -> list[float]:
        self.clock.now += count * self.cost_s
        found = self.ns * np.exp(self.rng.normal(0, self.sigma, count))
        slowed = self.rng.random(count) < self.burst
        found[slowed] *= self.rng.uniform(1.2, 3.0, slowed.sum())
        return found.tolist()


def arms_for(
    ratio: float, rng: np.random.Generator, clock: Clock | None = None, sigma: float = 0.02,
    burst: float = 0.05, cost_s: float = 0.0,
) -> dict[str, Arm]:  # fmt: skip
    clock = clock or Clock()
    return {
        "a": Arm(1e6, sigma, rng, clock, burst, cost_s),
        "b": Arm(1e6 * ratio, sigma, rng, clock, burst, cost_s),
    }


def opener(arms_by_label: dict, opened: list[str] | None = None):
    def open_arms(case: CaseRun) -> contextlib.AbstractContextManager:
        if opened is not None:
            opened.append(case.label)
        return contextlib.nullcontext(arms_by_label[case.label])

    return open_arms


def verdicts(ratio: float, count: int, seed: int, looks: Looks, gate=GATE,
             alpha: float = 0.01, **noise: float) -> tuple[list[str], list[CaseRun]]:  # fmt: skip
    """Final verdicts (judged as `hwbench ab` judges them) of `count` one-case sessions."""
    rng = np.random.default_rng(seed)
    found, cases = [], []
    for index in range(count):
        case = CaseRun(str(index), looks)
        run_cases([case], opener({case.label: arms_for(ratio, rng, **noise)}), gate, alpha, 2)
        outcome = Outcome(case.label, PASS, ratio=case.ratio())
        found.append(judge([outcome], gate, alpha)[0].verdict)
        cases.append(case)
    return found, cases


class NaiveRun(CaseRun):
    """Every look at the full alpha: what repeated looks without a correction do."""

    def ratio(self) -> LookRatio:
        plain = super().ratio()
        return LookRatio(plain.log, plain.se, plain.df, share=1.0)


def test_looks_grow_by_half_then_a_third_up_to_the_most() -> None:
    assert Looks.up_to(64).counts == (8, 12, 16, 24, 32, 48, 64)
    assert Looks.up_to(40).counts == (8, 12, 16, 24, 32, 40)
    assert Looks.up_to(5).counts == (5,)
    looks = Looks.up_to(64)
    assert (looks.after(0), looks.after(8), looks.after(63), looks.after(64)) == (8, 12, 64, None)
    assert looks.index(24) == 4
    assert looks.share(8) == 0.5 and looks.share(24) == pytest.approx(0.5 / 6)
    assert sum(looks.shares) == pytest.approx(1) and Looks((8, 12)).shares == (0.5, 0.5)
    with pytest.raises(ValueError):
        Looks((12, 8))
    with pytest.raises(ValueError):
        Looks((8, 12), (0.6, 0.6))  # would spend more than alpha


def test_a_look_spends_its_share_of_alpha() -> None:
    plain = Ratio(math.log(1.03), 0.01, df=9)
    look = LookRatio(plain.log, plain.se, plain.df, share=0.25)
    assert look.interval(0.01) == plain.interval(0.0025)
    assert look.p_value() == pytest.approx(min(1.0, plain.p_value() * 4))
    assert look.interval(0.01)[0] < plain.interval(0.01)[0]  # wider: a stricter level


@pytest.mark.parametrize(
    ("estimate", "se", "expected"),
    [
        (1.00, 0.005, PASS),  # the top of the interval within 5%
        (1.045, 0.0005, PASS),  # slower, but surely by less than 5%
        (1.048, 0.008, FAIL),  # above 1, past the zone's middle, 5% not ruled out
        (1.02, 0.005, PASS),  # above 1, nearer unchanged: the top is within 5% already
        (1.02, 0.012, INCONCLUSIVE),  # 1 and 5% both inside
        (1.08, 0.05, INCONCLUSIVE),  # 1 not ruled out
        (0.90, 0.01, PASS),  # a speed-up
    ],
)
def test_sequential_verdicts(estimate: float, se: float, expected: str) -> None:
    assert GATE.verdict(Ratio(math.log(estimate), se), 0.01) == expected


def test_a_speed_up_never_fails_however_precise() -> None:
    for se in (1e-6, 1e-3, 0.05):
        assert GATE.verdict(Ratio(math.log(0.97), se), 0.01) != FAIL
    assert GATE.fails(Ratio(math.log(1.06), 0.001), 0.01).startswith("median 1.060x")


@pytest.mark.slow
def test_split_alpha_holds_the_false_alarm_rate_that_naive_looks_inflate() -> None:
    """A/A sessions at a loose alpha (0.2, so that rates show in 300 sessions) and a near-zero
    threshold (so FAIL is "significantly slower"): looking 7 times at alpha each fails well
    over alpha / 2 (the one-sided rate a single look allows); the design's shares stay under."""
    loose, alpha, count = SequentialGate(threshold=1e-4), 0.2, 300
    split, _ = verdicts(1.0, count, 1, Looks.up_to(64), loose, alpha, burst=0.0)
    rng, naive = np.random.default_rng(1), []
    for index in range(count):
        case = NaiveRun(str(index), Looks.up_to(64))
        run_cases([case], opener({case.label: arms_for(1.0, rng, burst=0.0)}), loose, alpha, 2)
        naive.append(case.verdict)
    rate = split.count(FAIL) / count
    bound = alpha / 2 + 3 * math.sqrt(alpha / 2 * (1 - alpha / 2) / count)
    assert rate <= bound, rate
    assert naive.count(FAIL) / count > bound, naive.count(FAIL) / count


@pytest.mark.slow
def test_error_rates_with_known_ratios_and_bursty_noise() -> None:
    """Arms with 5% noise and 5% of samples hit by interference, each session sampled until
    decided: no change FAILs at most alpha (1%), a slowdown of exactly the threshold FAILs
    at least 95% of the time (the fixed design's rule, 12 blocks, under half as often), a
    speed-up never."""
    looks = Looks.up_to(128)
    same, cases = verdicts(1.0, 300, 2, looks, sigma=0.05)
    slower, _ = verdicts(1.05, 200, 3, looks, sigma=0.05)
    faster, _ = verdicts(0.95, 200, 4, looks, sigma=0.05)
    fixed, _ = verdicts(1.05, 200, 3, Looks((12,)), RatioGate(threshold=0.05), sigma=0.05)
    assert same.count(FAIL) <= 3, same.count(FAIL)
    assert slower.count(FAIL) >= 190, slower.count(FAIL)
    assert faster.count(FAIL) == 0
    assert fixed.count(FAIL) < slower.count(FAIL) / 2, fixed.count(FAIL)
    assert same.count(PASS) >= 285
    assert max(len(c.blocks) for c in cases) > np.median([len(c.blocks) for c in cases])


def test_a_decided_case_stops_at_its_look_and_an_undecidable_one_at_the_last() -> None:
    rng = np.random.default_rng(5)
    clear = CaseRun("clear", Looks.up_to(64))
    murky = CaseRun("murky", Looks.up_to(32))
    arms = {"clear": arms_for(1.0, rng, sigma=0.005, burst=0.0),
            "murky": arms_for(1.0, rng, sigma=0.6, burst=0.0)}  # fmt: skip
    seen: list[tuple[str, int, str]] = []
    run_cases([clear, murky], opener(arms), GATE, 0.01, 2,
              on_look=lambda c, then: seen.append((c.label, len(c.blocks), then)))  # fmt: skip
    assert (clear.stopped, len(clear.blocks), clear.verdict) == (DECIDED, 8, PASS)
    assert (murky.stopped, len(murky.blocks), murky.verdict) == (LAST_LOOK, 32, INCONCLUSIVE)
    assert [n for label, n, _ in seen if label == "murky"] == list(murky.looks.counts)
    assert clear.sampling == "8 blocks, look 1 of 7: decided"
    assert murky.sampling == "32 blocks, look 5 of 5: looks ran out"


def test_decided_cases_give_their_time_to_open_ones() -> None:
    """Budget 600 s, 3 cases, a sample costs 1 s (a block: 8 s). An equal split gives each
    200 s (25 blocks): the murky case, visited first, stops at 24 blocks (its 32-block look
    would pass 200 s); the two clear ones decide in 8 blocks each, and the murky case is
    visited again with what they left, up to its 48-block look."""
    clock = Clock()
    rng = np.random.default_rng(6)
    cases = [CaseRun(label, Looks.up_to(64)) for label in ("murky", "clear1", "clear2")]
    arms = {
        "murky": arms_for(1.0, rng, clock, sigma=0.6, burst=0.0, cost_s=1.0),
        "clear1": arms_for(1.0, rng, clock, sigma=0.005, burst=0.0, cost_s=1.0),
        "clear2": arms_for(1.0, rng, clock, sigma=0.005, burst=0.0, cost_s=1.0),
    }
    opened: list[str] = []
    run_cases(cases, opener(arms, opened), GATE, 0.01, 2, budget_s=600, clock=clock)
    murky, clear1, clear2 = cases
    assert [len(c.blocks) for c in cases] == [48, 8, 8]
    assert (murky.stopped, clear1.stopped, clear2.stopped) == (BUDGET, DECIDED, DECIDED)
    assert opened == ["murky", "clear1", "clear2", "murky"]
    assert clock.now <= 600
    assert sum(c.seconds for c in cases) == pytest.approx(clock.now)


def test_without_a_budget_each_case_goes_to_its_last_look_in_one_visit() -> None:
    clock, rng, opened = Clock(), np.random.default_rng(7), []
    case = CaseRun("murky", Looks.up_to(24))
    run_cases([case], opener({"murky": arms_for(1.0, rng, clock, sigma=0.6, cost_s=1.0)},
              opened), GATE, 0.01, 2, clock=clock)  # fmt: skip
    assert (len(case.blocks), case.stopped, opened) == (24, LAST_LOOK, ["murky"])


def test_a_budget_too_small_still_takes_every_first_look() -> None:
    clock, rng = Clock(), np.random.default_rng(8)
    cases = [CaseRun(str(i), Looks.up_to(64)) for i in range(3)]
    arms = {c.label: arms_for(1.0, rng, clock, sigma=0.6, cost_s=1.0) for c in cases}
    run_cases(cases, opener(arms), GATE, 0.01, 2, budget_s=1.0, clock=clock)
    assert [len(c.blocks) for c in cases] == [8, 8, 8]
    assert all(c.stopped == BUDGET for c in cases)


def test_holm_at_the_end_keeps_what_sampling_decided() -> None:
    """Sampling judges each of m cases at alpha / m; Holm's levels are never stricter, so a
    case decided while sampled keeps its verdict."""
    rng = np.random.default_rng(9)
    cases = [CaseRun(str(i), Looks.up_to(64)) for i in range(4)]
    ratios = (1.0, 1.10, 0.95, 1.0)
    arms = {c.label: arms_for(r, rng) for c, r in zip(cases, ratios, strict=True)}
    run_cases(cases, opener(arms), GATE, 0.01, 2)
    outcomes = [Outcome(c.label, PASS, ratio=c.ratio()) for c in cases]
    judge(outcomes, GATE, 0.01)
    for case, outcome in zip(cases, outcomes, strict=True):
        if case.stopped == DECIDED:
            assert outcome.verdict == case.verdict
    assert outcomes[1].verdict == FAIL


def test_design_settings_are_checked_by_the_rule_table() -> None:
    assert Design().looks.counts == Looks.up_to(128).counts == (8, 12, 16, 24, 32, 48, 64, 96, 128)
    assert Design("fixed").looks.counts == (12,)
    assert Design("fixed", blocks=20).looks.counts == (20,)
    assert (seconds("120"), seconds("120s"), seconds("2m"), seconds("0.5h")) == (
        120,
        120,
        120,
        1800,
    )
    for bad, said in [
        (dict(name="adaptive"), "unknown design 'adaptive'"),
        (dict(blocks=1), "blocks (--blocks) must be an integer >= 2"),
        (dict(samples=0), "samples (--samples) must be an integer >= 1"),
        (dict(budget_s=0.0), "budget_s (--budget) must be a finite number > 0"),
        (dict(budget_s=math.inf), "--budget"),
        (dict(name="fixed", budget_s=60.0), "--budget applies to the sequential design"),
    ]:
        with pytest.raises(UsageError) as error:
            Design(**bad)
        assert said in str(error.value)
    with pytest.raises(UsageError, match="--budget must be a duration"):
        seconds("soon")
