"""`hwbench peak` (quick sizes, on this CPU) and `hwbench floor`, as a user runs them."""

import json
import os
import subprocess
import sys

from hwbench.backends.peaks import PEAKS_FILE_ENV, PEAKS_SCHEMA
from tests.conftest import hwbench_cmd


def hwbench(*args, env=None):
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, timeout=120, env=env)


def test_floor_of_a_known_chip_is_labelled_not_measured_and_cited():
    proc = hwbench("floor", "--workload", "mlp", "--size", "tiny", "--chip", "910B3")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "mlp/tiny batch 1 bf16 on 910B3: floor (not measured)" in out
    assert "latency floor" in out and "throughput ceiling" in out
    assert out.count("floor (not measured)") == 3
    assert out.count("[weak (third-party)]") == 2  # the FLOP/s and the bandwidth, each cited


def test_floor_of_an_unknown_chip_exits_2_listing_the_valid_ones():
    proc = hwbench("floor", "--workload", "mlp", "--chip", "B300")
    assert proc.returncode == 2
    assert "unknown chip 'B300'" in proc.stderr
    assert "910B3" in proc.stderr and "H200" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_floor_refuses_a_dtype_the_chip_publishes_no_rate_for():
    proc = hwbench("floor", "--workload", "mlp", "--chip", "910C", "--dtype", "fp32")
    assert proc.returncode == 2 and "no published fp32 rate for 910C" in proc.stderr


def test_peak_quick_on_cpu_stores_rates_that_device_peak_reads(tmp_path):
    proc = hwbench("peak", "--quick", "--out", str(tmp_path), "--machine", "testbox")
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "testbox" / "peaks-cpu.json"
    document = json.loads(path.read_text())
    assert document["schema"] == PEAKS_SCHEMA and document["device"] == "cpu"
    assert document["gemm"]["fp32"]["flops_per_s"] > 0
    assert document["copy"]["bytes_per_s"] > 0
    assert document["environment"]["packages"]["torch"]
    check = "from hwbench.backends.cpu import CPU; print(CPU().peak('fp32'))"
    env = {**os.environ, PEAKS_FILE_ENV: str(path)}
    read = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=env, timeout=60
    )
    assert "confidence='measured'" in read.stdout, read.stderr


def test_peak_on_an_unavailable_device_exits_2_with_the_reason(tmp_path):
    proc = hwbench("peak", "--device", "npu", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "device npu unavailable: torch_npu" in proc.stderr
    assert not list(tmp_path.iterdir())
