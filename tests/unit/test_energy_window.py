"""The energy block a case records, from a meter stand-in whose counter the test sets: joules
per unit exact to the injected values, the resolution bound, `too short`, `not exposed`, and
the harness lengthened to meet the bound. No figure here is a measurement."""

from __future__ import annotations

import threading

import pytest

from hwbench.backends.energy_meter import EnergyMeter
from hwbench.measure import energy
from hwbench.measure.energy import EnergyWindow, Segment, energy_block
from hwbench.measure.harness import HarnessConfig


class CounterStandIn(EnergyMeter):
    """A counter that holds what the test sets; `raise_on_read` makes the next read fail."""

    source = "counter stand-in"

    def __init__(self, resolution_s: float = 0.001) -> None:
        self.resolution_s = resolution_s
        self.joules = 0.0
        self.closed = 0
        self.raise_on_read = False
        self._lock = threading.Lock()

    @property
    def domains(self) -> tuple[str, ...]:
        return ("package-0",)

    def read(self) -> dict[str, float]:
        if self.raise_on_read:
            raise OSError("counter went away")
        return {"package-0": self.joules}

    def close(self) -> None:
        self.closed += 1


def test_joules_per_sample_exact_to_the_injected_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(energy, "IDLE_MIN_S", 0.0)
    meter = CounterStandIn()
    window = EnergyWindow(meter)
    window.measure_idle()
    for joules_before, joules_after, samples in ((10.0, 12.5, 100), (20.0, 23.5, 140)):
        meter.joules = joules_before
        window.start()
        meter.joules = joules_after
        window.stop(sample=samples)
    assert [(s.joules, s.units) for s in window.segments] == [
        (2.5, {"sample": 100}),
        (3.5, {"sample": 140}),
    ]
    window.segments = [  # the same readings, a second apart, so the bound is known
        Segment(((0.0, 10.0), (1.0, 12.5)), {"sample": 100}),
        Segment(((5.0, 20.0), (6.0, 23.5)), {"sample": 140}),
    ]
    block = window.block()
    assert block["status"] == "measured" and block["joules"] == 6.0
    assert block["counts"] == {"sample": 240}
    assert block["joules_per"] == {"sample": 6.0 / 240} and block["per_joule"] == {"sample": 40.0}
    assert block["segment_joules_per"] == {"sample": [2.5 / 100, 3.5 / 140]}
    assert block["mean_w"] == 3.0 and block["peak_w"] == 3.5
    assert block["resolution_bound_pct"] == pytest.approx(100 * 2 * 0.001 / 2.0)
    assert block["idle_subtracted"] is False and block["idle_w"] == 0.0
    assert meter.closed == 1


def test_idle_power_is_reported_and_subtracted_only_in_its_own_field() -> None:
    meter = CounterStandIn()
    segments = [Segment(((0.0, 0.0), (2.0, 200.0)), {"output_token": 400, "request": 4})]
    block = energy_block(meter, segments, idle=(30.0, 0.5), poll_s=0.1)
    assert block["joules_per"] == {"output_token": 0.5, "request": 50.0}
    assert block["joules_above_idle_per"] == {"output_token": (200 - 60) / 400, "request": 35.0}
    assert block["idle_w"] == 30.0 and block["idle_subtracted"] is False


def test_a_window_under_the_counters_resolution_is_too_short_with_no_figure() -> None:
    meter = CounterStandIn(resolution_s=0.1)
    segments = [Segment(((0.0, 0.0), (0.5, 50.0)), {"sample": 10})]  # 0.1 s of 0.5: 20%
    block = energy_block(meter, segments, idle=None, poll_s=0.2)
    assert block["status"] == "too short" and "20%" in block["reason"]
    assert "joules" not in block and "joules_per" not in block


def test_no_meter_means_not_exposed_with_the_reason() -> None:
    window = EnergyWindow(None, "no /sys/class/powercap")
    window.measure_idle()
    window.start()
    window.stop(sample=3)
    assert window.block() == {"status": "not exposed", "reason": "no /sys/class/powercap"}


def test_a_meter_that_fails_mid_way_is_reported_failed() -> None:
    meter = CounterStandIn()
    window = EnergyWindow(meter)
    window.start()
    meter.raise_on_read = True
    window.stop(sample=3)
    block = window.block()
    assert block["status"] == "failed" and "counter went away" in block["reason"]
    assert meter.closed == 1


def test_the_harness_is_lengthened_to_meet_the_bound_within_its_budget() -> None:
    harness = HarnessConfig(min_time_s=0.5, time_budget_s=5.0)
    assert EnergyWindow(CounterStandIn(0.001)).lengthen(harness, 3) == harness
    window = EnergyWindow(CounterStandIn(0.1))
    assert window.lengthen(harness, 3).min_time_s == pytest.approx(3.0)  # 3 x 0.1 s / 10%
    assert window.lengthened_s == pytest.approx(3.0)
    assert EnergyWindow(CounterStandIn(0.5)).lengthen(harness, 3).min_time_s == 5.0
    assert EnergyWindow(None, "none").lengthen(harness, 3) == harness
