"""The device contract, run on every device available here (the CPU at least)."""

import time

import pytest
import torch

from hwbench.registry import plugins

ALL_DEVICES = sorted(plugins("devices"))
# The contract of a device hwbench computes on: not `remote`, a server's device that only the
# endpoint engine reaches, through the server's API (backends/remote.py).
AVAILABLE = [
    name
    for name in ALL_DEVICES
    if plugins("devices")[name]().available()[0]
    and not hasattr(plugins("devices")[name], "pairs_with")
]


@pytest.mark.parametrize("name", ALL_DEVICES)
def test_availability_never_raises_and_explains_itself(name):
    ok, reason = plugins("devices")[name]().available()
    assert isinstance(ok, bool)
    assert ok or reason  # unavailable devices say why


@pytest.fixture(params=AVAILABLE)
def device(request):
    return plugins("devices")[request.param]()


def test_tensors_go_to_the_device(device):
    x = torch.ones(4, device=device.torch_device())
    assert x.device.type == device.name
    device.synchronize()


def test_timer_measures_device_work(device):
    x = torch.randn(512, 512, device=device.torch_device())
    timer = device.timer()
    timer.start()
    for _ in range(3):
        x = x @ x / 512
    elapsed = timer.stop()
    assert elapsed > 0
    timer.start()
    time.sleep(0.05)
    assert 0.04e9 <= timer.stop() < 1e9


def test_peak_memory_sees_an_allocation(device):
    device.reset_peak_memory()
    before = device.memory().peak_allocated
    x = torch.ones(64 * 2**20 // 4, device=device.torch_device())  # 64 MiB
    device.synchronize()
    after = device.memory().peak_allocated
    assert after - before >= 60 * 2**20
    del x


def test_info_identifies_the_device(device):
    info = device.info()
    assert info["name"] and info["memory_bytes"] > 0


def test_fp32_is_always_supported_and_unknown_dtypes_never(device):
    assert device.supports_dtype("fp32") == (True, "")
    ok, reason = device.supports_dtype("fp64")
    assert not ok and reason
