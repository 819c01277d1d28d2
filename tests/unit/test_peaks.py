"""The datasheet table (every number cited), name lookup, and the stored-measurement lookup."""

import json

import pytest

from hwbench.backends.cpu import CPU
from hwbench.backends.peaks import (
    CHIPS,
    CONFIDENCES,
    PEAKS_FILE_ENV,
    PEAKS_SCHEMA,
    chip,
    datasheet_for,
    stored_peak,
)
from hwbench.errors import UsageError


def all_cited():
    for entry in CHIPS.values():
        yield from ((entry.chip, dtype, cited) for dtype, cited in entry.flops.items())
        yield entry.chip, "bandwidth", entry.bandwidth


@pytest.mark.parametrize(("name", "what", "cited"), list(all_cited()))
def test_every_number_has_a_source_and_a_confidence(name, what, cited):
    assert cited.value > 0
    assert len(cited.source) > 10
    assert cited.confidence in CONFIDENCES


def test_the_chips_the_issue_names_are_there():
    assert {"H100-SXM", "H200", "A100-SXM-80G", "910B2", "910B3", "910B4", "910C"} <= set(CHIPS)


def test_h200_figures_match_nvidias_datasheet():
    h200 = chip("h200").peak("bf16")
    assert (h200.flops_per_s, h200.bytes_per_s) == (989e12, 4800e9)
    assert h200.confidence == "datasheet" and "nvidia.com" in h200.source


def test_a_peak_carries_the_weakest_confidence_and_no_fp32_where_none_is_published():
    peak = chip("910B3").peak("fp32")
    assert peak.flops_per_s is None and peak.bytes_per_s == 1600e9
    assert peak.confidence == "weak (third-party)"
    assert chip("910C").peak("bf16").confidence == "press"


@pytest.mark.parametrize(
    ("device_name", "expected"),
    [
        ("NVIDIA H200", "H200"),
        ("NVIDIA H100 80GB HBM3", "H100-SXM"),
        ("NVIDIA A100-SXM4-80GB", "A100-SXM-80G"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA L4", "L4"),
        ("Ascend910B2", "910B2"),
        ("Ascend910B3", "910B3"),
        ("Ascend910B4", "910B4"),
        ("Ascend910_9391", "910C"),
        ("NVIDIA H100 PCIe", None),
        ("NVIDIA H200 NVL", None),
        ("NVIDIA A10G", None),
        ("NVIDIA A100-SXM4-40GB", None),
        ("Ascend910B2C", None),
        ("AMD EPYC", None),
    ],
)
def test_device_names_map_to_datasheet_entries(device_name, expected):
    entry = datasheet_for(device_name)
    assert (entry.chip if entry else None) == expected


def test_an_unknown_chip_lists_the_valid_ones():
    with pytest.raises(UsageError, match=r"unknown chip 'B300'; valid: .*910B3.*H200"):
        chip("B300")


def write_peaks(path, device="cpu"):
    document = {
        "schema": PEAKS_SCHEMA,
        "schema_version": 1,
        "device": device,
        "created": "2026-11-30T05:00:00+00:00",
        "gemm": {"fp32": {"flops_per_s": 1.5e11}},
        "copy": {"bytes_per_s": 2.5e10},
    }
    path.write_text(json.dumps(document))
    return path


def test_device_peak_reads_the_stored_measurement(tmp_path, monkeypatch):
    monkeypatch.setenv(PEAKS_FILE_ENV, str(write_peaks(tmp_path / "peaks-cpu.json")))
    peak = CPU().peak("fp32")
    assert (peak.flops_per_s, peak.bytes_per_s) == (1.5e11, 2.5e10)
    assert peak.confidence == "measured" and "2026-11-30" in peak.source
    assert CPU().peak("bf16").flops_per_s is None  # not measured: bandwidth only


def test_default_location_is_results_machine_peaks_device(tmp_path, monkeypatch):
    monkeypatch.delenv(PEAKS_FILE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("socket.gethostname", lambda: "box1")
    assert stored_peak("cpu", "fp32") is None
    (tmp_path / "results" / "box1").mkdir(parents=True)
    write_peaks(tmp_path / "results" / "box1" / "peaks-cpu.json")
    assert stored_peak("cpu", "fp32").flops_per_s == 1.5e11


def test_another_devices_file_gives_no_peak(tmp_path, monkeypatch):
    monkeypatch.setenv(PEAKS_FILE_ENV, str(write_peaks(tmp_path / "p.json", device="cuda")))
    assert stored_peak("cpu", "fp32") is None


def test_a_file_that_is_not_a_peaks_file_is_an_error(tmp_path, monkeypatch):
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    monkeypatch.setenv(PEAKS_FILE_ENV, str(bad))
    with pytest.raises(UsageError, match="not a hwbench peaks file"):
        stored_peak("cpu", "fp32")
