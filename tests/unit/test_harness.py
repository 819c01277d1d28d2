import threading
import time

import pytest

from hwbench.backends.base import Timer
from hwbench.backends.cpu import CPU
from hwbench.errors import UsageError
from hwbench.measure.harness import HarnessConfig, Sampler, measure, settle

QUICK = dict(warmup_s=0.01, min_samples=5, min_time_s=0.05, time_budget_s=2.0)


class FakeClock(Timer):
    """A timer whose clock moves only when a step runs, so calibration is deterministic."""

    def __init__(self, step_ns: int) -> None:
        self.step_ns, self.now, self._t0 = step_ns, 0, 0

    def step(self) -> None:
        self.now += self.step_ns

    def start(self) -> None:
        self._t0 = self.now

    def stop(self) -> int:
        return self.now - self._t0


def test_calibration_makes_each_sample_last_at_least_the_minimum():
    clock = FakeClock(step_ns=87)
    result = measure(clock.step, clock, HarnessConfig(**QUICK))
    assert result.loops * 87 >= 0.01e9  # ns: every sample times at least 10 ms of steps
    assert result.loops * 87 < 1.3 * 0.01e9  # ... and not much more
    assert all(s == pytest.approx(87) for s in result.samples_ns)


def test_calibration_on_the_real_clock_times_many_calls_of_a_tiny_step():
    calls = 0

    def step():
        nonlocal calls
        calls += 1

    result = measure(step, CPU().timer(), HarnessConfig(**QUICK))
    assert result.loops > 1000  # a no-op step needs many calls per 10 ms sample
    assert calls >= result.loops * len(result.samples_ns)


def test_time_is_measured_per_step():
    result = measure(lambda: time.sleep(0.002), CPU().timer(), HarnessConfig(**QUICK))
    median = sorted(result.samples_ns)[len(result.samples_ns) // 2]
    assert 2e6 <= median < 8e6  # ns: sleep(2 ms) plus slack; per sample (5 steps) would be >= 10 ms


def test_stops_when_the_median_is_known_to_within_the_target():
    result = measure(
        lambda: time.sleep(0.001), CPU().timer(), HarnessConfig(**{**QUICK, "target_rel_ci": 0.5})
    )
    assert result.stop_reason == "converged"
    assert result.rel_ci_halfwidth <= 0.5


def test_stops_at_the_time_budget_when_it_cannot_converge():
    result = measure(
        lambda: time.sleep(0.001),
        CPU().timer(),
        HarnessConfig(**{**QUICK, "target_rel_ci": 0.0, "time_budget_s": 0.3}),
    )
    assert result.stop_reason == "time_budget"
    assert 0.3 <= result.sampling_s < 1.0


def test_warm_up_runs_before_sampling():
    result = measure(lambda: None, CPU().timer(), HarnessConfig(**{**QUICK, "warmup_runs": 7}))
    assert result.warmup_runs >= 7


@pytest.mark.parametrize(
    "bad",
    [{"time_budget_s": 0}, {"min_samples": 0}, {"warmup_s": -1}, {"passes": 0}, {"settle_s": -1}],
)
def test_bad_settings_are_usage_errors(bad):
    with pytest.raises(UsageError):
        HarnessConfig(**bad)


def test_one_slow_warm_up_step_does_not_leave_samples_short():
    calls = 0

    def step():  # the first call is slow, as a cold cache or another tenant makes it
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(0.05)

    config = HarnessConfig(**{**QUICK, "warmup_runs": 1, "warmup_s": 0})
    result = measure(step, CPU().timer(), config)
    assert result.loops > 1000


def test_measure_takes_one_slice():
    result = measure(lambda: time.sleep(0.001), CPU().timer(), HarnessConfig(**QUICK))
    assert result.pass_starts == [0]
    assert len(result.pass_times) == 1


def test_slices_split_the_time_budget_and_the_last_one_decides_the_stop():
    config = HarnessConfig(**{**QUICK, "target_rel_ci": 0.0, "time_budget_s": 0.6})
    sampler = Sampler(lambda: time.sleep(0.001), CPU().timer(), config, passes=3)
    spent = []
    for _ in range(3):
        assert not sampler.done
        before = sampler.result.sampling_s
        sampler.sample_slice()
        spent.append(sampler.result.sampling_s - before)
    assert sampler.done
    result = sampler.result
    assert len(result.pass_starts) == 3 and result.pass_starts[0] == 0
    assert result.pass_starts == sorted(set(result.pass_starts))  # every slice took samples
    assert all(0.15 <= s < 0.5 for s in spent)  # ~a third of the budget each (never converges)
    assert 0.6 <= result.sampling_s < 1.0
    assert result.stop_reason == "time_budget"
    assert result.pass_times == sorted(result.pass_times)


def test_a_converging_case_spends_the_minimum_time_split_across_slices():
    config = HarnessConfig(**{**QUICK, "target_rel_ci": 0.5, "min_time_s": 0.3})
    sampler = Sampler(lambda: time.sleep(0.001), CPU().timer(), config, passes=3)
    sampler.sample_slice()
    assert 0.1 <= sampler.result.sampling_s < 0.3  # a third of the minimum time, not all of it
    sampler.sample_slice()
    sampler.sample_slice()
    assert sampler.result.stop_reason == "converged"
    assert 0.3 <= sampler.result.sampling_s < 0.9


def test_max_samples_ends_the_case_before_its_last_pass():
    config = HarnessConfig(**{**QUICK, "min_samples": 3, "max_samples": 4, "target_rel_ci": 0})
    sampler = Sampler(lambda: None, CPU().timer(), config, passes=3)
    sampler.sample_slice()  # its third of the budget is far more than 4 samples of nothing
    assert sampler.done and sampler.result.stop_reason == "max_samples"
    sampler.sample_slice()
    assert len(sampler.result.samples_ns) == 4
    assert sampler.result.pass_starts == [0]


def spin(seconds: float) -> threading.Thread:
    """A thread that keeps a core busy for `seconds`, as a thread pool's spin-wait does."""

    def busy() -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    thread = threading.Thread(target=busy)
    thread.start()
    return thread


def test_settle_waits_until_the_process_threads_stop_spinning():
    spinner = spin(0.15)
    waited = settle(2.0)
    assert not spinner.is_alive()  # the core is free when it returns
    assert 0.15 <= waited < 1.0


def test_settle_returns_soon_when_nothing_spins_and_gives_up_at_its_limit():
    assert settle(2.0) < 0.1
    spinner = spin(1.0)
    assert 0.2 <= settle(0.2) < 0.5
    spinner.join()
    assert settle(0.0) < 0.01
