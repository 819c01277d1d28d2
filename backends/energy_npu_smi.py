"""Ascend NPU energy from `npu-smi info -t power -i ID`, sampled and integrated.

Source: Huawei's npu-smi reference, "查询所有芯片功率" (query every chip's power),
hiascend.com/document/detail/zh/Atlas%20200I%20A2/2520/re/npu/npusmi_023.html: the command
prints `NPU Real-time Power(W) : 9.1` per chip (the NPU's real-time power, W) and
`Power Dissipation(W) : 16.9` (the whole card's real-time power, W; not on every product).
The NPU's field is read, the card's where the NPU's is absent. The document gives no update
rate: the sampling period (0.5 s; one call takes a fraction of it) is the resolution claimed.
The DCMI call behind it (dcmi_get_device_power_info, 0.1 W units) needs CANN's libdcmi and is
not used. ID is npu-smi's NPU ID (`npu-smi info -l`), taken as the first entry of
ASCEND_RT_VISIBLE_DEVICES when set, else 0.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from hwbench.backends.energy_meter import Energy, PowerSampledMeter

FIELDS = ("NPU Real-time Power(W)", "Power Dissipation(W)")  # preferred first
PERIOD_S = 0.5
TIMEOUT_S = 5.0


def npu_smi_id() -> int:
    """npu-smi's NPU ID of the device torch_npu calls npu:0."""
    visible = os.environ.get("ASCEND_RT_VISIBLE_DEVICES", "").split(",")[0].strip()
    return int(visible) if visible.isdigit() else 0


def parse_power(text: str) -> tuple[str, float]:
    """(field, W) of the first FIELDS line `npu-smi info -t power` printed; ValueError if none."""
    for field in FIELDS:
        match = re.search(re.escape(field) + r"\s*:\s*([0-9.]+)", text)
        if match:
            return field, float(match.group(1))
    raise ValueError(f"no {' or '.join(FIELDS)} in npu-smi's output: {text.strip()[:200]!r}")


def query(npu_id: int) -> tuple[str, float]:
    """One `npu-smi info -t power -i ID` call: (field, W); OSError/ValueError on failure."""
    command = ["npu-smi", "info", "-t", "power", "-i", str(npu_id)]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise OSError(f"{' '.join(command)} took over {TIMEOUT_S:g} s") from None
    if out.returncode != 0:
        raise OSError(f"{' '.join(command)} exited {out.returncode}: {out.stderr.strip()[:200]}")
    return parse_power(out.stdout)


def npu_smi_energy(npu_id: int | None = None) -> Energy:
    """A meter sampling npu-smi's power for NPU `npu_id` (default: npu:0's), or why not."""
    if shutil.which("npu-smi") is None:
        return None, "npu-smi is not on PATH (it comes with the Ascend driver)"
    npu_id = npu_smi_id() if npu_id is None else npu_id
    try:
        field, _ = query(npu_id)
    except (OSError, ValueError) as error:
        return None, f"npu-smi gives no power for NPU {npu_id}: {error}"
    domain = f"npu{npu_id}" + (" card" if field != FIELDS[0] else "")
    meter = PowerSampledMeter(
        lambda: {domain: query(npu_id)[1]},
        f"npu-smi info -t power -i {npu_id}: {field}, sampled and integrated",
        PERIOD_S,
    )
    return meter, ""
