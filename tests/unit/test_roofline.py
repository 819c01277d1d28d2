"""Roofline position and floor on hand-computed examples."""

import pytest

from hwbench.analysis.roofline import floor, for_case, position
from hwbench.backends.cpu import CPU
from hwbench.backends.peaks import PEAKS_FILE_ENV, Peak
from hwbench.workloads import make_workload

# 100 GFLOP/s and 10 GB/s: ridge at 10 FLOP/byte.
PEAK = Peak(flops_per_s=100e9, bytes_per_s=10e9, source="hand", confidence="measured")
SHEET = Peak(flops_per_s=200e9, bytes_per_s=40e9, source="sheet", confidence="datasheet")


def test_at_the_ridge_point_a_step_is_compute_bound():
    # 1 GFLOP, 0.1 GB in 20 ms: 50 GFLOP/s, 5 GB/s, intensity 10 = ridge.
    result = position(1e9, 1e8, 0.02, measured=PEAK, datasheet=None)
    assert result["flops_per_s"] == pytest.approx(50e9)
    assert result["bytes_per_s"] == pytest.approx(5e9)
    assert result["intensity_flop_per_byte"] == pytest.approx(10)
    measured = result["measured"]
    assert measured["ridge_flop_per_byte"] == pytest.approx(10)
    assert measured["pct_of_peak_flops"] == pytest.approx(50)
    assert measured["pct_of_peak_bytes"] == pytest.approx(50)
    assert measured["pct_of_roof"] == pytest.approx(50)
    assert (result["bound"], result["bound_from"]) == ("compute", "measured")


def test_below_the_ridge_point_the_bound_flips_to_memory():
    # Intensity 5: the roof is 5 FLOP/byte x 10 GB/s = 50 GFLOP/s, reached at 20 ms.
    result = position(1e9, 2e8, 0.02, measured=PEAK, datasheet=None)
    assert result["bound"] == "memory"
    assert result["measured"]["pct_of_peak_bytes"] == pytest.approx(100)
    assert result["measured"]["pct_of_roof"] == pytest.approx(100)
    just_below = position(1e9, 1e8 + 1, 0.02, measured=PEAK, datasheet=None)
    assert just_below["bound"] == "memory"


def test_measured_and_datasheet_peaks_side_by_side():
    # Datasheet ridge is 5 FLOP/byte: intensity 8 is memory-bound on the measured peak only.
    result = position(8e9, 1e9, 0.1, measured=PEAK, datasheet=SHEET)
    assert result["measured"]["bound"] == "memory"
    assert result["datasheet"]["bound"] == "compute"
    assert result["datasheet"]["pct_of_peak_flops"] == pytest.approx(40)
    assert result["datasheet"]["confidence"] == "datasheet"
    assert (result["bound"], result["bound_from"]) == ("memory", "measured")


def test_unknown_peaks_give_none():
    result = position(1e9, 1e8, 0.02, measured=None, datasheet=None)
    assert result["measured"] is None and result["datasheet"] is None
    assert result["bound"] is None and result["flops_per_s"] == pytest.approx(50e9)


def test_a_measured_peak_without_this_dtype_falls_back_to_the_datasheet_bound():
    bandwidth_only = Peak(flops_per_s=None, bytes_per_s=10e9, source="m", confidence="measured")
    result = position(1e9, 1e8, 0.02, measured=bandwidth_only, datasheet=SHEET)
    assert result["measured"]["pct_of_peak_flops"] is None
    assert result["measured"]["pct_of_peak_bytes"] == pytest.approx(50)
    assert (result["bound"], result["bound_from"]) == ("compute", "datasheet")


def test_floor_is_the_slower_of_compute_and_memory_time():
    assert floor(1e9, 1e8, PEAK) == {
        "compute_s": pytest.approx(0.01),
        "memory_s": pytest.approx(0.01),
        "latency_s": pytest.approx(0.01),
        "bound": "compute",
    }
    memory = floor(1e9, 2e8, PEAK)
    assert memory["latency_s"] == pytest.approx(0.02) and memory["bound"] == "memory"


def test_floor_needs_both_rates():
    with pytest.raises(ValueError, match="both"):
        floor(1e9, 1e8, Peak(None, 1e9, "s", "datasheet"))


def test_for_case_counts_the_workload_against_the_devices_stored_peak(tmp_path, monkeypatch):
    monkeypatch.setenv(PEAKS_FILE_ENV, str(tmp_path / "absent.json"))
    workload = make_workload("mlp", "tiny")
    result = for_case(workload, batch=8, dtype="fp32", step_s=1e-3, device=CPU())
    assert result["flops_per_step"] == workload.flops(8)
    assert result["bytes_per_step"] == workload.bytes_moved(8, 4)
    assert result["flops_per_s"] == pytest.approx(workload.flops(8) / 1e-3)
    assert result["measured"] is None  # nothing stored at that path
