"""A case's energy: its device's meter read around each timed segment (a slice of a step
case, a generate or serve case's whole timed run), its idle power measured before, and the
record's `energy` block made of them (README, "Energy").

Resolution: a counter read at time t holds the energy of some moment in (t - r, t], r its
update period, so a segment's joules are off by at most mean power x r; over n segments of
total length T the figure is within n x r / T (`resolution_bound_pct`). A window whose bound
exceeds MAX_BOUND_PCT is reported `too short`, with no figure; step cases are lengthened to
meet it where the harness's time budget allows.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from hwbench.backends.base import Device
from hwbench.backends.energy_meter import EnergyMeter
from hwbench.measure.harness import HarnessConfig

MAX_BOUND_PCT = 10.0
MIN_POLL_S = 0.1  # peak power is the highest mean over one poll interval of at least this
IDLE_MIN_S = 0.5
IDLE_RESOLUTIONS = 5  # idle power is read over at least this many counter updates
MEASURED, NOT_EXPOSED, TOO_SHORT, FAILED = "measured", "not exposed", "too short", "failed"


@dataclass(frozen=True)
class Segment:
    """One timed stretch: its (perf_counter s, joules) readings at each poll, and the units
    of work done in it (samples, tokens ...)."""

    points: tuple[tuple[float, float], ...]
    units: dict[str, float]

    @property
    def seconds(self) -> float:
        return self.points[-1][0] - self.points[0][0]

    @property
    def joules(self) -> float:
        return self.points[-1][1] - self.points[0][1]


class EnergyWindow:
    """A meter read around a case's timed segments; without a meter every method is a no-op
    and `block` says why energy is not exposed."""

    def __init__(self, meter: EnergyMeter | None, reason: str = "") -> None:
        self.meter, self.reason = meter, reason
        self.segments: list[Segment] = []
        self.idle: tuple[float, float] | None = None  # (W, s)
        self.lengthened_s: float | None = None
        self.failed = False  # the meter failed mid-way: `reason` says how
        self._closed = False
        self._points: list[tuple[float, float]] = []
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._by_domain: dict[str, float] = {}

    @property
    def poll_s(self) -> float:
        return max(MIN_POLL_S, 2 * self.meter.resolution_s) if self.meter else MIN_POLL_S

    def _read(self) -> tuple[float, float]:
        """(perf_counter s, joules of all domains); the meter's failure ends the window."""
        assert self.meter is not None
        try:
            joules = self.meter.read()
        except (OSError, RuntimeError, ValueError) as error:
            self._fail(f"{self.meter.source}: {error}")
            raise
        self._by_domain = joules
        return time.perf_counter(), sum(joules.values())

    def _fail(self, reason: str) -> None:
        self.close()
        self.meter, self.reason = None, reason
        self.segments, self.idle, self.failed = [], None, True

    def lengthen(self, harness: HarnessConfig, segments: int) -> HarnessConfig:
        """`harness` with its minimum time raised so that `segments` segments meet the
        resolution bound, never past its time budget; unchanged without a meter."""
        if self.meter is None:
            return harness
        needed = segments * self.meter.resolution_s * 100 / MAX_BOUND_PCT
        if needed <= harness.min_time_s:
            return harness
        self.lengthened_s = min(needed, harness.time_budget_s)
        return replace(harness, min_time_s=self.lengthened_s)

    def measure_idle(self) -> None:
        """The device's power with nothing running, read before the timed window."""
        if self.meter is None:
            return
        seconds = max(IDLE_MIN_S, IDLE_RESOLUTIONS * self.meter.resolution_s)
        try:
            t0, j0 = self._read()
            time.sleep(seconds)
            t1, j1 = self._read()
        except (OSError, RuntimeError, ValueError):
            return
        self.idle = ((j1 - j0) / (t1 - t0), t1 - t0)

    def start(self) -> None:
        """Open a timed segment and poll the meter through it."""
        if self.meter is None:
            return
        try:
            self._points = [self._read()]
        except (OSError, RuntimeError, ValueError):
            return
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, name="hwbench-energy", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self._points.append(self._read())
            except (OSError, RuntimeError, ValueError):
                return

    def stop(self, **units: float) -> None:
        """Close the segment opened by `start`; `units`: the work done in it by kind, e.g.
        sample=640 or output_token=512, request=16."""
        if self.meter is None or self._poller is None:
            return
        self._stop.set()
        self._poller.join()
        self._poller = None
        try:
            last = self._read()
        except (OSError, RuntimeError, ValueError):
            return
        self.segments.append(Segment((*self._points, last), units))

    def close(self) -> None:
        """Release the meter (once; `block` reads what it kept)."""
        if self.meter is not None and not self._closed:
            self._closed = True
            self.meter.close()

    def block(self) -> dict[str, Any]:
        """The record's `energy` block (closing the meter)."""
        self.close()
        if self.meter is None:
            status = FAILED if self.failed else NOT_EXPOSED
            return {"status": status, "reason": self.reason}
        if self.meter.error:
            return {"status": FAILED, "reason": self.meter.error}
        return energy_block(self.meter, self.segments, self.idle, self.poll_s, self.lengthened_s)


def energy_block(
    meter: EnergyMeter,
    segments: list[Segment],
    idle: tuple[float, float] | None,
    poll_s: float,
    lengthened_s: float | None = None,
) -> dict[str, Any]:
    """Joules per unit of work, power and how far to trust them, from a meter's segments."""
    window_s = sum(s.seconds for s in segments)
    bound = 100 * len(segments) * meter.resolution_s / window_s if window_s > 0 else math.inf
    head: dict[str, Any] = {
        "source": meter.source,
        "domains": list(meter.domains),
        "resolution_s": meter.resolution_s,
        "window_s": window_s,
        "segments": len(segments),
        "resolution_bound_pct": bound if math.isfinite(bound) else None,
    }
    if lengthened_s is not None:
        head["lengthened_min_time_s"] = lengthened_s
    if not segments or bound > MAX_BOUND_PCT:
        reason = (
            f"{window_s:.3g} s in {len(segments)} segment(s) of a counter updated every "
            f"{meter.resolution_s:g} s: the figure would be within only "
            f"{bound:.3g}% (at most {MAX_BOUND_PCT:g}%); lengthen the run (harness min_time_s, "
            "time_budget_s, or more requests)"
        )
        return {"status": TOO_SHORT, "reason": reason, **head}
    joules = sum(s.joules for s in segments)
    totals: dict[str, float] = {}
    for segment in segments:
        for unit, count in segment.units.items():
            totals[unit] = totals.get(unit, 0) + count
    idle_w = idle[0] if idle else None
    above = joules - idle_w * window_s if idle_w is not None else None
    return {
        "status": MEASURED,
        **head,
        "joules": joules,
        "mean_w": joules / window_s,
        "peak_w": peak_power(segments),
        "peak_over_s": poll_s,
        "idle_w": idle_w,
        "idle_s": idle[1] if idle else None,
        "idle_subtracted": False,
        "counts": totals,
        "joules_per": {u: joules / n for u, n in totals.items() if n},
        "per_joule": {u: n / joules for u, n in totals.items() if joules > 0},
        "joules_above_idle_per": {u: above / n for u, n in totals.items() if n}
        if above is not None
        else {},
        "segment_joules_per": segment_figures(segments),
    }


def peak_power(segments: list[Segment]) -> float:
    """The highest mean power (W) between two consecutive readings of any segment."""
    rates = [
        (j1 - j0) / (t1 - t0)
        for s in segments
        for (t0, j0), (t1, j1) in zip(s.points, s.points[1:], strict=False)
        if t1 > t0
    ]
    return max(rates, default=0.0)


def segment_figures(segments: list[Segment]) -> dict[str, list[float]]:
    """Joules per unit of each segment, by unit (the gate's samples of energy)."""
    figures: dict[str, list[float]] = {}
    for segment in segments:
        for unit, count in segment.units.items():
            if count:
                figures.setdefault(unit, []).append(segment.joules / count)
    return figures


def open_window(device: Device) -> EnergyWindow:
    """`device`'s meter in a window, or a window that reports why there is none."""
    meter, reason = device.energy()
    return EnergyWindow(meter, reason)
