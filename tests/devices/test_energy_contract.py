"""`Device.energy()` on every device hwbench knows, available or not: a meter whose reads
cover its domains, or None and the reason; never an exception."""

import pytest

from hwbench.registry import plugins

ALL_DEVICES = sorted(plugins("devices"))


@pytest.mark.parametrize("name", ALL_DEVICES)
def test_energy_is_a_meter_or_a_reason(name):
    meter, reason = plugins("devices")[name]().energy()
    if meter is None:
        assert reason, f"{name}: no meter and no reason"
        return
    try:
        first, second = meter.read(), meter.read()
        assert set(first) == set(meter.domains) and meter.domains
        assert all(second[d] >= first[d] >= 0 for d in meter.domains)
        assert meter.resolution_s > 0 and meter.source
    finally:
        meter.close()
