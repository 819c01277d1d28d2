"""The energy meters against stand-ins (a fake RAPL tree, a pynvml stand-in, an npu-smi
stand-in script): joules exact to the injected counters, wrap-arounds undone, the calls made,
and `not exposed` with its reason. No figure here is a measurement."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hwbench.backends.energy_meter import PowerSampledMeter
from hwbench.backends.energy_npu_smi import npu_smi_energy, parse_power
from hwbench.backends.energy_nvml import NvmlCounterMeter, NvmlPowerMeter, nvml_energy
from hwbench.backends.energy_rapl import rapl_energy
from tests.energy_stand_ins.pynvml_stand_in import PynvmlStandIn
from tests.energy_stand_ins.rapl_tree import ZONES, make_rapl_stand_in, set_counter

NPU_SMI_STAND_IN = Path(__file__).parents[1] / "energy_stand_ins" / "npu_smi_stand_in"


def test_rapl_stand_in_sums_package_and_dram_exactly(tmp_path: Path) -> None:
    tree = make_rapl_stand_in(tmp_path)
    set_counter(tree, "intel-rapl:0", 5_000_000)
    meter, reason = rapl_energy(tree)
    assert meter is not None and reason == ""
    assert meter.domains == ("package-0", "dram-0")  # core and psys left out
    assert "rapl-stand-in" in meter.source
    set_counter(tree, "intel-rapl:0", 7_250_000)
    set_counter(tree, "intel-rapl:0:1", 1_500_000)
    set_counter(tree, "intel-rapl:0:0", 9_999_999)  # part of the package: not counted again
    assert meter.read() == {"package-0": 2.25, "dram-0": 1.5}


def test_rapl_stand_in_undoes_a_wrap_around(tmp_path: Path) -> None:
    tree = make_rapl_stand_in(tmp_path)
    range_uj = ZONES["intel-rapl:0"][1]
    set_counter(tree, "intel-rapl:0", range_uj - 1_000_000)
    meter, _ = rapl_energy(tree)
    assert meter is not None
    set_counter(tree, "intel-rapl:0", 500_000)  # past the range: wrapped to 0, then 0.5 J
    assert meter.read()["package-0"] == pytest.approx(1.5, abs=1e-12)
    set_counter(tree, "intel-rapl:0", 2_500_000)
    assert meter.read()["package-0"] == pytest.approx(3.5, abs=1e-12)


def test_rapl_not_exposed_says_why(tmp_path: Path) -> None:
    meter, reason = rapl_energy(tmp_path / "absent")
    assert meter is None and "no powercap driver" in reason
    (tmp_path / "empty").mkdir()
    meter, reason = rapl_energy(tmp_path / "empty")
    assert meter is None and "no RAPL package or dram zone" in reason
    tree = make_rapl_stand_in(tmp_path)
    counter = tree / "intel-rapl:0" / "energy_uj"
    counter.unlink()
    counter.mkdir()  # unreadable as a number
    meter, reason = rapl_energy(tree)
    assert meter is None and reason.startswith("RAPL unreadable")


def test_this_machines_cpu_energy_is_reported_as_it_is() -> None:
    from hwbench.backends.cpu import CPU

    meter, reason = CPU().energy()
    if Path("/sys/class/powercap").is_dir():
        assert (meter is None) == bool(reason)
    else:
        assert meter is None and "/sys/class/powercap" in reason
    if meter is not None:
        meter.close()


def test_nvml_stand_in_counter_in_millijoules_and_calls() -> None:
    nvml = PynvmlStandIn(energy_mj=1_000_000)
    meter, reason = nvml_energy(nvml, "1234-abcd")
    assert isinstance(meter, NvmlCounterMeter) and reason == ""
    nvml.energy_mj = 1_002_500
    assert meter.read() == {"gpu0": 2.5}
    meter.close()
    assert nvml.names() == [
        "nvmlInit",
        "nvmlDeviceGetHandleByUUID",
        "nvmlDeviceGetTotalEnergyConsumption",
        "nvmlDeviceGetTotalEnergyConsumption",
        "nvmlShutdown",
    ]
    assert nvml.calls[1] == ("nvmlDeviceGetHandleByUUID", ("GPU-1234-abcd",))


def test_nvml_stand_in_falls_back_to_power_where_the_counter_is_missing() -> None:
    nvml = PynvmlStandIn(power_mw=250_000, nvmlDeviceGetTotalEnergyConsumption=3)
    meter, _ = nvml_energy(nvml, None)
    assert isinstance(meter, NvmlPowerMeter) and meter.resolution_s == 1.0
    assert nvml.calls[1] == ("nvmlDeviceGetHandleByIndex", (0,))
    time.sleep(0.25)
    meter.close()
    assert "nvmlDeviceGetPowerUsage" in nvml.names() and nvml.names()[-1] == "nvmlShutdown"


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ({"nvmlInit": 12}, "NVML cannot start"),
        ({"nvmlDeviceGetTotalEnergyConsumption": 3, "nvmlDeviceGetPowerUsage": 3}, "neither"),
    ],
)
def test_nvml_stand_in_not_exposed_says_why(errors: dict[str, int], expected: str) -> None:
    meter, reason = nvml_energy(PynvmlStandIn(**errors), "x")
    assert meter is None and expected in reason


def test_power_samples_integrate_by_trapezoids_exactly() -> None:
    watts = {"w": 100.0}
    meter = PowerSampledMeter(lambda: dict(watts), "stand-in power", 1.0, period_s=3600)
    t0 = meter._last_t
    meter.add(t0 + 1.0, {"w": 300.0})  # (100 + 300) / 2 W for 1 s
    meter.add(t0 + 3.0, {"w": 0.0})  # (300 + 0) / 2 W for 2 s; held at 0 W after
    assert meter.read() == {"w": 200.0 + 300.0}
    meter.close()


def test_npu_smi_output_as_documented() -> None:
    documented = """
        NPU ID                         : 0
        Chip Count                     : 1

        Chip ID                        : 0
        NPU Real-time Power(W)         : 9.1

        Power Dissipation(W)           : 16.9
        Chip Name                      : MCU
"""
    assert parse_power(documented) == ("NPU Real-time Power(W)", 9.1)
    assert parse_power("Power Dissipation(W) : 93.5") == ("Power Dissipation(W)", 93.5)
    with pytest.raises(ValueError, match="no NPU Real-time Power"):
        parse_power("Temperature(C) : 40")


@pytest.fixture
def npu_smi_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    log = tmp_path / "npu-smi-calls.txt"
    monkeypatch.setenv("PATH", f"{NPU_SMI_STAND_IN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NPU_SMI_STAND_IN_LOG", str(log))
    monkeypatch.delenv("ASCEND_RT_VISIBLE_DEVICES", raising=False)
    return log


def test_npu_smi_stand_in_sampled_with_the_documented_command(
    npu_smi_on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPU_SMI_STAND_IN_W", "0.0")
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "3,4")
    meter, reason = npu_smi_energy()
    assert meter is not None and reason == "", reason
    assert meter.domains == ("npu3",) and "NPU Real-time Power(W)" in meter.source
    meter.close()
    assert npu_smi_on_path.read_text().splitlines()[0] == "info -t power -i 3"


def test_npu_smi_stand_in_card_power_named_as_such(
    npu_smi_on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPU_SMI_STAND_IN_FIELD", "Power Dissipation(W)")
    meter, _ = npu_smi_energy(0)
    assert meter is not None and meter.domains == ("npu0 card",)
    meter.close()


def test_npu_smi_not_exposed_says_why(
    npu_smi_on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPU_SMI_STAND_IN_FAIL", "1")
    meter, reason = npu_smi_energy(7)
    assert meter is None and "npu-smi gives no power for NPU 7" in reason and "exited 1" in reason
    monkeypatch.setenv("PATH", "/nonexistent")
    meter, reason = npu_smi_energy()
    assert meter is None and "npu-smi is not on PATH" in reason
