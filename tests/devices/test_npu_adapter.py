"""Adapter tests for backends/npu.py against a recording stand-in for torch_npu.

A fake `torch_npu` module in sys.modules records which torch_npu.npu calls the adapter makes and
in what order. They run everywhere, never touch an NPU and never produce a timing (the
stand-in's elapsed_time is a made-up constant).
"""

import importlib.abc
import importlib.util
import sys
import types
from types import SimpleNamespace

import pytest

from hwbench.backends.npu import Npu, soc_family
from hwbench.backends.peaks import datasheet_for

FAKE_ELAPSED_MS = 2.5
ASCEND_910B3 = 223  # c10_npu::SocVersion::Ascend910B3
ASCEND_310P3 = 202


def recorded(calls: list, name: str, result=None):
    """A function that appends `name` to `calls` and returns `result`."""

    def call(*args, **kwargs):
        calls.append(name)
        return result

    return call


class FakeEvent:
    """An event that records record/synchronize/elapsed_time as "<label>.<method>"."""

    def __init__(self, calls: list, label: str) -> None:
        self.calls, self.label = calls, label

    def record(self) -> None:
        self.calls.append(f"{self.label}.record")

    def synchronize(self) -> None:
        self.calls.append(f"{self.label}.synchronize")

    def elapsed_time(self, end: "FakeEvent") -> float:
        self.calls.append(f"{self.label}.elapsed_time({end.label})")
        return FAKE_ELAPSED_MS


def fake_runtime(calls: list, soc_version: int, device_count: int) -> SimpleNamespace:
    """A torch_npu.npu namespace with the functions the adapter uses, each recorded."""
    labels = iter(("start", "end"))

    def event(enable_timing=False):
        calls.append(f"Event(enable_timing={enable_timing})")
        return FakeEvent(calls, next(labels))

    props = SimpleNamespace(
        name="Ascend910B3",
        total_memory=64 * 2**30,
        cube_core_num=20,
        vector_core_num=40,
        L2_cache_size=192 * 2**20,
    )
    return SimpleNamespace(
        Event=event,
        device_count=recorded(calls, "device_count", device_count),
        synchronize=recorded(calls, "synchronize"),
        max_memory_allocated=recorded(calls, "max_memory_allocated", 1000),
        max_memory_reserved=recorded(calls, "max_memory_reserved", 2000),
        reset_peak_memory_stats=recorded(calls, "reset_peak_memory_stats"),
        get_soc_version=recorded(calls, "get_soc_version", soc_version),
        get_device_name=recorded(calls, "get_device_name", "Ascend910B3"),
        get_device_properties=recorded(calls, "get_device_properties", props),
        utils=SimpleNamespace(get_cann_version=recorded(calls, "get_cann_version", "8.5.0")),
    )


@pytest.fixture
def install_fake(monkeypatch):
    """Put a fake torch_npu (SoC, device count of your choice) in sys.modules."""
    calls: list[str] = []
    for key in ("ASCEND_RT_VISIBLE_DEVICES", "TASK_QUEUE_ENABLE"):
        monkeypatch.delenv(key, raising=False)

    def install(soc_version: int = ASCEND_910B3, device_count: int = 1) -> list[str]:
        module = types.ModuleType("torch_npu")
        module.__version__ = "2.13.0"
        module.npu = fake_runtime(calls, soc_version, device_count)
        monkeypatch.setitem(sys.modules, "torch_npu", module)
        return calls

    return install


class TorchNpuWithoutCann(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds torch_npu and fails to load it the way the PyPI wheel does without CANN."""

    def find_spec(self, name, path, target=None):
        return importlib.util.spec_from_loader(name, self) if name == "torch_npu" else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise ImportError("libhccl.so: cannot open shared object file: No such file or directory")


def test_npu_adapter_timer_records_both_events_then_waits_on_the_end_one(install_fake):
    calls = install_fake()
    timer = Npu().timer()
    timer.start()
    elapsed_ns = timer.stop()
    assert calls == [
        "Event(enable_timing=True)",
        "Event(enable_timing=True)",
        "start.record",
        "end.record",
        "end.synchronize",
        "start.elapsed_time(end)",
    ]
    assert elapsed_ns == FAKE_ELAPSED_MS * 1_000_000  # ms -> ns


def test_npu_adapter_memory_resets_then_reads_peaks(install_fake):
    calls = install_fake()
    device = Npu()
    device.reset_peak_memory()
    stats = device.memory()
    assert calls == ["reset_peak_memory_stats", "max_memory_allocated", "max_memory_reserved"]
    assert (stats.peak_allocated, stats.peak_reserved) == (1000, 2000)


def test_npu_adapter_synchronize_calls_torch_npu(install_fake):
    calls = install_fake()
    Npu().synchronize()
    assert calls == ["synchronize"]


def test_npu_adapter_available_with_a_device(install_fake):
    calls = install_fake(device_count=8)
    assert Npu().available() == (True, "")
    assert calls == ["device_count"]


def test_npu_adapter_missing_cann_libraries_is_a_reason(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch_npu", raising=False)
    monkeypatch.setattr(sys, "meta_path", [TorchNpuWithoutCann(), *sys.meta_path])
    ok, reason = Npu().available()
    assert not ok
    assert "torch_npu cannot be imported" in reason and "libhccl.so" in reason


def test_npu_adapter_not_installed_is_a_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_npu", None)  # import raises ImportError
    ok, reason = Npu().available()
    assert not ok and "torch_npu cannot be imported" in reason


def test_npu_adapter_no_device_is_a_reason(install_fake):
    install_fake(device_count=0)
    ok, reason = Npu().available()
    assert not ok and reason == "no Ascend NPU visible"


def test_npu_adapter_non_ascending_visible_devices_is_the_reason(install_fake, monkeypatch):
    install_fake(device_count=0)  # what torch_npu reports for "3,1"
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "3,1")
    ok, reason = Npu().available()
    assert not ok and "ASCEND_RT_VISIBLE_DEVICES=3,1 is not ascending" in reason
    assert "not ascending" in Npu().environment()["warning"]


def test_npu_adapter_records_the_environment_that_changes_speed(install_fake, monkeypatch):
    install_fake()
    monkeypatch.setenv("TASK_QUEUE_ENABLE", "2")
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "0,1")
    assert Npu().environment() == {"TASK_QUEUE_ENABLE": "2", "ASCEND_RT_VISIBLE_DEVICES": "0,1"}


SOC_FAMILIES = {220: "910B", 223: "910B", 225: "910B", 250: "910C", 255: "910C", 202: "310P"}
SOC_FAMILIES |= {102: "910", 243: "310B", 260: "950", 999: "unknown"}


@pytest.mark.parametrize(("soc_version", "family"), sorted(SOC_FAMILIES.items()))
def test_npu_adapter_soc_version_maps_to_family(soc_version, family):
    assert soc_family(soc_version) == family


def test_npu_adapter_bf16_refused_on_310p(install_fake):
    install_fake(soc_version=ASCEND_310P3)
    ok, reason = Npu().supports_dtype("bf16")
    assert not ok and "910B or newer" in reason and "310P" in reason
    assert Npu().supports_dtype("fp16") == (True, "")


def test_npu_adapter_bf16_on_910b_and_never_fp64(install_fake):
    install_fake(soc_version=ASCEND_910B3)
    assert Npu().supports_dtype("bf16") == (True, "")
    ok, reason = Npu().supports_dtype("fp64")
    assert not ok and "fp64" in reason


def test_npu_adapter_info_names_soc_family_and_versions(install_fake):
    calls = install_fake()
    info = Npu().info()
    assert info["name"] == "Ascend910B3"
    assert (info["soc_version"], info["family"]) == (ASCEND_910B3, "910B")
    assert (info["cube_cores"], info["vector_cores"]) == (20, 40)
    assert (info["torch_npu"], info["cann"]) == ("2.13.0", "8.5.0")
    assert "get_cann_version" in calls
    assert datasheet_for(info["name"]).chip == "910B3"
