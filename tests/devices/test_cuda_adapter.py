"""Adapter tests for backends/cuda.py against a recording stand-in for torch.cuda.

They check which torch.cuda calls the adapter makes and in what order; they run everywhere and
never produce a timing (the stand-in's elapsed_time is a made-up constant).
"""

from types import SimpleNamespace

import pytest
import torch

from hwbench.backends.cuda import Cuda

FAKE_ELAPSED_MS = 2.5


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


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch.cuda replaced by a recorder; torch.version.cuda set as on a CUDA build."""
    calls: list[str] = []

    labels = iter(("start", "end"))

    def event(enable_timing=False):
        calls.append(f"Event(enable_timing={enable_timing})")
        return FakeEvent(calls, next(labels))

    props = SimpleNamespace(
        name="NVIDIA H200",
        major=9,
        minor=0,
        multi_processor_count=132,
        total_memory=143 * 2**30,
        L2_cache_size=60 * 2**20,
    )
    fake = SimpleNamespace(
        calls=calls,
        Event=event,
        device_count=recorded(calls, "device_count", 1),
        synchronize=recorded(calls, "synchronize"),
        max_memory_allocated=recorded(calls, "max_memory_allocated", 1000),
        max_memory_reserved=recorded(calls, "max_memory_reserved", 2000),
        reset_peak_memory_stats=recorded(calls, "reset_peak_memory_stats"),
        get_device_properties=recorded(calls, "get_device_properties", props),
        is_bf16_supported=recorded(calls, "is_bf16_supported", True),
    )
    monkeypatch.setattr(torch, "cuda", fake)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    return fake


def test_cuda_adapter_timer_records_both_events_then_waits_on_the_end_one(fake_cuda):
    timer = Cuda().timer()
    timer.start()
    elapsed_ns = timer.stop()
    assert fake_cuda.calls == [
        "Event(enable_timing=True)",
        "Event(enable_timing=True)",
        "start.record",
        "end.record",
        "end.synchronize",
        "start.elapsed_time(end)",
    ]
    assert elapsed_ns == FAKE_ELAPSED_MS * 1_000_000  # ms -> ns


def test_cuda_adapter_memory_resets_then_reads_peaks(fake_cuda):
    device = Cuda()
    device.reset_peak_memory()
    stats = device.memory()
    assert fake_cuda.calls == [
        "reset_peak_memory_stats",
        "max_memory_allocated",
        "max_memory_reserved",
    ]
    assert (stats.peak_allocated, stats.peak_reserved) == (1000, 2000)


def test_cuda_adapter_synchronize_calls_torch_cuda(fake_cuda):
    Cuda().synchronize()
    assert fake_cuda.calls == ["synchronize"]


def test_cuda_adapter_available_with_a_device(fake_cuda):
    assert Cuda().available() == (True, "")
    assert fake_cuda.calls == ["device_count"]


def test_cuda_adapter_no_device_is_a_reason(fake_cuda, monkeypatch):
    monkeypatch.setattr(fake_cuda, "device_count", recorded(fake_cuda.calls, "device_count", 0))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    ok, reason = Cuda().available()
    assert not ok and "no CUDA device" in reason and "CUDA_VISIBLE_DEVICES=''" in reason


def test_cuda_adapter_cpu_build_is_a_reason(fake_cuda, monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    ok, reason = Cuda().available()
    assert not ok and "without CUDA" in reason
    assert fake_cuda.calls == []  # never touches the runtime


def test_cuda_adapter_runtime_error_is_a_reason(fake_cuda, monkeypatch):
    def broken():
        raise RuntimeError("CUDA driver version is insufficient")

    monkeypatch.setattr(fake_cuda, "device_count", broken)
    ok, reason = Cuda().available()
    assert not ok and "insufficient" in reason


def test_cuda_adapter_info_describes_the_gpu(fake_cuda):
    info = Cuda().info()
    assert info["name"] == "NVIDIA H200"
    assert info["compute_capability"] == "9.0"
    assert info["multiprocessors"] == 132
    assert info["memory_bytes"] == 143 * 2**30
    assert info["cuda_runtime"] == "13.0"
    assert "driver" in info and "cuda_driver_api" in info


def test_cuda_adapter_bf16_refused_before_ampere(fake_cuda, monkeypatch):
    monkeypatch.setattr(fake_cuda, "is_bf16_supported", lambda: False)
    ok, reason = Cuda().supports_dtype("bf16")
    assert not ok and "compute capability" in reason
    assert Cuda().supports_dtype("fp16") == (True, "")


def test_cuda_adapter_keeps_fp32_out_of_tf32_in_the_worker_only(fake_cuda):
    """cuDNN convolutions default to TF32, which fails fp32 parity (seen on an H200): a case's
    worker turns it off; constructing the device (as the CLI and the pytest plugin's user
    process do) leaves the process's settings alone."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    before = cudnn.allow_tf32, matmul.allow_tf32  # module proxies: monkeypatch cannot undo them
    try:
        cudnn.allow_tf32 = matmul.allow_tf32 = True
        device = Cuda()
        assert device.info()["cudnn_allow_tf32"] is True and matmul.allow_tf32 is True
        with device.case_settings():
            info = device.info()
            assert cudnn.allow_tf32 is False and matmul.allow_tf32 is False
            assert info["cudnn_allow_tf32"] is False and info["matmul_allow_tf32"] is False
        assert cudnn.allow_tf32 is True and matmul.allow_tf32 is True  # restored
    finally:
        cudnn.allow_tf32, matmul.allow_tf32 = before


def test_cuda_driver_version_falls_back_to_the_driver_api(monkeypatch):
    """torch 2.11 has no private binding; then cuDriverGetVersion answers, and no libcuda
    (or a failing call) gives None."""
    from hwbench.backends import cuda

    class FakeLibcuda:
        def __init__(self, status: int) -> None:
            self.status = status

        def cuDriverGetVersion(self, pointer) -> int:
            pointer._obj.value = 13000
            return self.status

    monkeypatch.delattr(torch._C, "_cuda_getDriverVersion", raising=False)
    monkeypatch.setattr(cuda.ctypes, "CDLL", lambda name: FakeLibcuda(0))
    assert cuda.cuda_driver_api_version() == "13.0"
    monkeypatch.setattr(cuda.ctypes, "CDLL", lambda name: FakeLibcuda(3))
    assert cuda.cuda_driver_api_version() is None

    def missing(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(cuda.ctypes, "CDLL", missing)
    assert cuda.cuda_driver_api_version() is None
