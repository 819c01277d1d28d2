"""Peak rates: datasheet figures for known chips (cited), and the peaks hwbench measured here.

Datasheet figures are dense (no structured sparsity), per chip, each number with its source and
a confidence label. fp32 is the non-tensor-core rate: torch runs fp32 matmuls without TF32 by
default. A device's measured peak is the file `hwbench peak` wrote: $HWBENCH_PEAKS_FILE when
set, else peaks-<device>.json in $HWBENCH_PEAKS_DIR (`hwbench run` sets it to its
OUT/<machine> for its workers), else results/<machine>/peaks-<device>.json under the current
directory (<machine> is the host name, as `hwbench peak` names it without --machine)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from hwbench.errors import UsageError, unknown_choice
from hwbench.machine import machine_name

CONFIDENCES = ("datasheet", "press", "weak (third-party)")  # strongest first
PEAKS_SCHEMA = "hwbench-peaks"
PEAKS_FILE_ENV = "HWBENCH_PEAKS_FILE"
PEAKS_DIR_ENV = "HWBENCH_PEAKS_DIR"
T = 1e12  # TFLOP/s -> FLOP/s
GB = 1e9  # GB/s -> bytes/s


@dataclass(frozen=True)
class Peak:
    """A peak rate: FLOP/s for a dtype and copy bytes/s, with where it came from."""

    flops_per_s: float | None
    bytes_per_s: float | None
    source: str  # "measured <date>" or a datasheet citation
    confidence: str  # "measured", "datasheet", "weak"


@dataclass(frozen=True)
class Cited:
    """One published rate: FLOP/s or bytes/s, where it was published, how far to trust it."""

    value: float
    source: str
    confidence: str

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"confidence {self.confidence!r} is not one of {CONFIDENCES}")


@dataclass(frozen=True)
class ChipPeak:
    """A chip's dense GEMM rate per dtype and its memory bandwidth, each cited."""

    chip: str
    flops: dict[str, Cited] = field(hash=False)  # dtype -> FLOP/s
    bandwidth: Cited  # bytes/s

    def peak(self, dtype: str) -> Peak:
        """This chip as a `Peak` for `dtype` (flops None where no figure is published)."""
        flops = self.flops.get(dtype)
        cited = [c for c in (flops, self.bandwidth) if c is not None]
        weakest = max(CONFIDENCES.index(c.confidence) for c in cited)
        return Peak(
            flops_per_s=flops.value if flops else None,
            bytes_per_s=self.bandwidth.value,
            source="; ".join(dict.fromkeys(c.source for c in cited)),
            confidence=CONFIDENCES[weakest],
        )


def _nvidia(chip: str, fp32: float, bf16: float, gbs: float, source: str) -> ChipPeak:
    """An NVIDIA datasheet entry: fp32 and bf16 (= fp16) TFLOP/s, memory GB/s."""
    tensor = Cited(bf16 * T, source + "; dense (half the sparsity figure)", "datasheet")
    return ChipPeak(
        chip,
        {"fp32": Cited(fp32 * T, source, "datasheet"), "bf16": tensor, "fp16": tensor},
        Cited(gbs * GB, source, "datasheet"),
    )


def _ascend(
    chip: str, fp16: float, quoted: str, gbs: float, source: str, confidence: str
) -> ChipPeak:
    """An Ascend entry: fp16 (= bf16) TFLOP/s, the upper end of the `quoted` range (so a floor
    from it stays a lower bound), and HBM GB/s; Huawei publishes no fp32 matmul rate."""
    rate = Cited(fp16 * T, f"{source}; quoted {quoted} TFLOP/s", confidence)
    return ChipPeak(chip, {"bf16": rate, "fp16": rate}, Cited(gbs * GB, source, confidence))


NV = "NVIDIA {} datasheet (https://www.nvidia.com/en-us/data-center/{}/)"
ASCEND_WEAK = "third-party spec listings; Huawei publishes no per-SKU datasheet figure"
ASCEND_PRESS = "press reports on Huawei's Ascend 910C (two 910B-class dies, 128 GB HBM)"
WEAK = "weak (third-party)"
CHIPS: dict[str, ChipPeak] = {
    c.chip: c
    for c in (
        # chip, fp32 TFLOP/s, bf16 = fp16 TFLOP/s dense, memory GB/s, source
        _nvidia("H100-SXM", 67, 989, 3350, NV.format("H100 Tensor Core GPU, SXM", "h100")),
        _nvidia("H200", 67, 989, 4800, NV.format("H200 Tensor Core GPU, SXM", "h200")),
        _nvidia("A100-SXM-80G", 19.5, 312, 2039, NV.format("A100, 80GB SXM", "a100")),
        _nvidia("L40S", 91.6, 362.05, 864, NV.format("L40S", "l40s")),
        _nvidia("A10", 31.2, 125, 600, NV.format("A10", "products/a10-gpu")),
        _nvidia("L4", 30.3, 121, 300, NV.format("L4", "l4")),
        # chip, fp16 = bf16 TFLOP/s, its quoted range, HBM GB/s, source, confidence
        _ascend("910B2", 376, "354-376", 1600, ASCEND_WEAK, WEAK),
        _ascend("910B3", 313, "295-313", 1600, ASCEND_WEAK, WEAK),
        _ascend("910B4", 246, "~246", 800, ASCEND_WEAK, WEAK),
        _ascend("910C", 752, "~752", 3200, ASCEND_PRESS, "press"),
    )
}
# Device names as torch reports them (props.name; torch_npu's get_device_name is the SoC name,
# e.g. "Ascend910B3", "Ascend910_9391" for A3 / 910C) -> CHIPS key. First match wins.
NAME_PATTERNS = (
    (r"h100.*(sxm|hbm3)", "H100-SXM"),  # "NVIDIA H100 80GB HBM3"; PCIe and NVL differ
    (r"h200(?!.*nvl)", "H200"),
    (r"a100.*sxm.*80", "A100-SXM-80G"),  # "NVIDIA A100-SXM4-80GB"
    (r"l40s", "L40S"),
    (r"\ba10$", "A10"),  # not A10G or A100
    (r"\bl4$", "L4"),
    (r"910b2$", "910B2"),  # not 910B2C
    (r"910b3$", "910B3"),
    (r"910b4$", "910B4"),  # not 910B4_1
    (r"910_93\d\d$|910c", "910C"),
)


def datasheet_for(device_name: str) -> ChipPeak | None:
    """The datasheet entry for a device name as torch reports it, or None when unknown."""
    lowered = device_name.strip().lower()
    for pattern, chip in NAME_PATTERNS:
        if re.search(pattern, lowered):
            return CHIPS[chip]
    return None


def chip(name: str) -> ChipPeak:
    """The datasheet entry called `name` (case-insensitive), or a UsageError listing them."""
    for key, entry in CHIPS.items():
        if key.lower() == name.lower():
            return entry
    raise unknown_choice("chip", name, list(CHIPS))


def peaks_path(out_dir: Path, machine: str, device: str) -> Path:
    """Where `hwbench peak` stores a device's measurement: OUT/<machine>/peaks-<device>.json."""
    return out_dir / machine / f"peaks-{device}.json"


def stored_peaks_file(device: str) -> Path:
    """$HWBENCH_PEAKS_FILE, else $HWBENCH_PEAKS_DIR/peaks-<device>.json, else
    results/<this machine>/peaks-<device>.json here."""
    if os.environ.get(PEAKS_FILE_ENV):
        return Path(os.environ[PEAKS_FILE_ENV])
    if os.environ.get(PEAKS_DIR_ENV):
        return Path(os.environ[PEAKS_DIR_ENV]) / f"peaks-{device}.json"
    return peaks_path(Path("results"), machine_name(), device)


def load_peaks(path: Path) -> dict:
    """A stored peaks document; UsageError when the file is not one."""
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not a hwbench peaks file (not JSON: {error})") from None
    if not isinstance(document, dict) or document.get("schema") != PEAKS_SCHEMA:
        raise UsageError(f"{path} is not a hwbench peaks file (no schema {PEAKS_SCHEMA!r})")
    return document


def stored_peak(device: str, dtype: str) -> Peak | None:
    """The peak `hwbench peak` measured for `device` on this machine, or None if it has not
    (no file, or the file is for another device)."""
    path = stored_peaks_file(device)
    if not path.is_file():
        return None
    document = load_peaks(path)
    if document.get("device") != device:
        return None
    gemm = document["gemm"].get(dtype)
    return Peak(
        flops_per_s=gemm["flops_per_s"] if gemm else None,
        bytes_per_s=document["copy"]["bytes_per_s"],
        source=f"measured {document['created']} ({path})",
        confidence="measured",
    )


def bound_at(intensity: float, ridge: float) -> str:
    """The roof that limits a step of `intensity` FLOP/byte under a peak whose ridge point is
    `ridge` FLOP/byte: compute at or above it, memory below."""
    return "compute" if intensity >= ridge else "memory"
