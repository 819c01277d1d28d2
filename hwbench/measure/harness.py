"""Warm-up, loop calibration, the timing loop and its adaptive stopping rule (README, "How it
measures").

A case can be measured in one go (`measure`) or in slices (`Sampler`) that the runner takes
in turns with other cases' slices, so that each case's samples come from several moments of
the run rather than one (Google Benchmark's random interleaving does the same; on a shared
machine whose speed changes for tens of seconds at a time, it keeps a slow spell from
deciding one case's median).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hwbench.backends.base import Timer
from hwbench.errors import UsageError
from hwbench.measure.stats import relative_ci_halfwidth
from hwbench.settings import HARNESS_RULES, check_fields


@dataclass(frozen=True)
class HarnessConfig:
    """How long and how precisely to measure one case."""

    warmup_s: float = 0.2  # at least this long, and at least `warmup_runs` steps
    warmup_runs: int = 2
    min_sample_s: float = 0.01  # a sample times enough steps to last this long
    min_samples: int = 10
    min_time_s: float = 0.5
    target_rel_ci: float = 0.01  # stop when the median's 95% CI is within +-1%
    time_budget_s: float = 5.0  # ... or when sampling has lasted this long
    max_samples: int = 100_000
    passes: int = 3  # slices a case's sampling is split into when cases are interleaved
    settle_s: float = 0.5  # after a slice, wait at most this long for the worker to go idle

    def __post_init__(self) -> None:
        check_fields(self, HARNESS_RULES, "[harness] ")
        if self.max_samples < self.min_samples:
            raise UsageError("harness needs 1 <= min_samples <= max_samples")


@dataclass
class Measurement:
    """Per-step times in ns (each sample the mean over `loops` steps) and how they ended."""

    samples_ns: list[float] = field(default_factory=list)
    loops: int = 1
    warmup_runs: int = 0
    sampling_s: float = 0.0
    stop_reason: str = ""  # "converged", "time_budget" or "max_samples"
    rel_ci_halfwidth: float = math.inf
    pass_starts: list[int] = field(default_factory=list)  # index of each slice's first sample
    pass_times: list[float] = field(default_factory=list)  # when each slice began, Unix s


def timed_loop(step: Callable[[], object], timer: Timer, loops: int) -> int:
    """Nanoseconds for `loops` calls of `step`, synchronized at the end."""
    timer.start()
    for _ in range(loops):
        step()
    return timer.stop()


def warm_up(step: Callable[[], object], timer: Timer, config: HarnessConfig) -> tuple[int, float]:
    """Run `step` for the warm-up period; returns (runs, fastest step in ns), the estimate
    least disturbed by other work on the machine."""
    runs, spent_ns, fastest = 0, 0, float("inf")
    while runs < config.warmup_runs or spent_ns < config.warmup_s * 1e9:
        elapsed = timed_loop(step, timer, 1)
        spent_ns, runs, fastest = spent_ns + elapsed, runs + 1, min(fastest, elapsed)
    return runs, fastest


def calibrate(
    step: Callable[[], object], timer: Timer, estimate_ns: float, config: HarnessConfig
) -> int:
    """Steps per sample so that one sample lasts at least `min_sample_s`, checked by timing
    that many steps (a single step that already lasts that long gives 1)."""
    target_ns = config.min_sample_s * 1e9
    loops = max(1, math.ceil(target_ns / max(estimate_ns, 1.0)))
    while (elapsed := timed_loop(step, timer, loops)) < target_ns:
        loops = math.ceil(loops * 1.2 * target_ns / max(elapsed, 1))
    return loops


def measure(step: Callable[[], object], timer: Timer, config: HarnessConfig) -> Measurement:
    """Time `step` (warm-up, calibration, then samples until the stopping rule) in one slice;
    the caller has already made the first run, whose cost is reported apart."""
    sampler = Sampler(step, timer, config, passes=1)
    sampler.sample_slice()
    return sampler.result


class Sampler:
    """A case's timed loop split into `passes` slices. Slice p (1-based) samples until the
    stopping rule holds with the minimum count and time (of all its samples so far) scaled by
    p / passes, or until sampling has lasted p / passes of the time budget.

    Convergence is judged on the slice's own samples, against the target times
    sqrt(passes): P slices each known to +-t*sqrt(P) pool to about +-t when nothing drifts, so
    a steady case costs what one pass costs. The rule bounds the sampling error within a
    moment of the run; the shifts between moments, which more samples in one moment cannot
    shrink, are what the passes average over. (Judged on the pooled samples, those shifts
    kept 42 of 60 cases of a default run on the 2-core VM sampling to the budget, where
    one-pass runs had 19-22; judged per slice against the unscaled target, a default run
    spent 190 s sampling, where one-pass runs spent 135-168 s.) The last slice's reason is
    the case's `stop_reason`; `rel_ci_halfwidth` is the pooled samples'. Each slice after the
    first starts with one untimed sample, so that the caches other cases' slices evicted are
    warm again."""

    def __init__(
        self, step: Callable[[], object], timer: Timer, config: HarnessConfig, passes: int
    ) -> None:
        self.step, self.timer, self.config, self.passes = step, timer, config, passes
        self.result = Measurement()
        self.result.warmup_runs, estimate_ns = warm_up(step, timer, config)
        self.result.loops = calibrate(step, timer, estimate_ns, config)

    @property
    def done(self) -> bool:
        finished = len(self.result.pass_starts) >= self.passes
        return finished or self.result.stop_reason == "max_samples"

    def sample_slice(self) -> None:
        """Take the next slice's samples (none once done); the stop reason and CI are set."""
        if self.done:
            return
        result, loops = self.result, self.result.loops
        result.pass_starts.append(len(result.samples_ns))
        result.pass_times.append(time.time())
        share = len(result.pass_starts) / self.passes
        config = replace(
            self.config,
            min_samples=max(1, math.ceil(self.config.min_samples * share)),
            min_time_s=self.config.min_time_s * share,
            time_budget_s=self.config.time_budget_s * share,
            target_rel_ci=self.config.target_rel_ci * math.sqrt(self.passes),
        )
        if len(result.pass_starts) > 1:
            timed_loop(self.step, self.timer, loops)
        start = time.perf_counter() - result.sampling_s
        while True:
            result.samples_ns.append(timed_loop(self.step, self.timer, loops) / loops)
            result.sampling_s = time.perf_counter() - start
            reason = stop_reason(result, config, since=result.pass_starts[-1])
            if reason:
                result.stop_reason = reason
                result.rel_ci_halfwidth = relative_ci_halfwidth(result.samples_ns)
                return


def settle(max_s: float, quiet_s: float = 0.02, poll_s: float = 0.005) -> float:
    """Wait, at most `max_s`, until this process's threads have used under a tenth of a core
    for `quiet_s`; returns the seconds waited. Thread pools spin after their last task before
    they sleep (on the 2-core VM: onnxruntime's 20-75 ms, torch's OpenMP ~8 ms), on a core
    that the next case's slice, in another worker, would otherwise share with them."""
    start = time.perf_counter()
    marks = deque([(start, time.process_time())])  # (wall s, this process's CPU s)
    while time.perf_counter() - start < max_s:
        time.sleep(poll_s)
        now, cpu = time.perf_counter(), time.process_time()
        marks.append((now, cpu))
        while now - marks[1][0] >= quiet_s:  # the oldest mark kept: the newest quiet_s old
            marks.popleft()
        then, cpu_then = marks[0]
        if now - then >= quiet_s and cpu - cpu_then < 0.1 * (now - then):
            break
    return time.perf_counter() - start


def stop_reason(result: Measurement, config: HarnessConfig, since: int = 0) -> str:
    """Why sampling stops now ("" to go on); convergence is judged on the samples from index
    `since` on (a pass's own)."""
    n = len(result.samples_ns)
    if n >= config.max_samples:
        return "max_samples"
    if result.sampling_s >= config.time_budget_s:
        return "time_budget"
    if n < config.min_samples or result.sampling_s < config.min_time_s:
        return ""
    # The CI needs a sort: check each sample while few, then every 16th.
    if n > 256 and n % 16:
        return ""
    converged = relative_ci_halfwidth(result.samples_ns[since:]) <= config.target_rel_ci
    return "converged" if converged else ""
