"""The Ascend driver and firmware, as `npu-smi` reports them.

`npu-smi info` opens with `| npu-smi 24.1.RC2   Version: 24.1.RC2 |` (the driver's version),
then a two-line block per NPU (`| 0     910B1 | OK | ...` and its chip line) and then the
process table (`| NPU  Chip | Process id | ...`). Samples: gpustack/gpustack
tests/detectors/npu_smi/data/*.txt (an Atlas 800 9010 under npu-smi 24.1.RC2 and 6.0.RC1) and
the 910B1 output quoted in its gpustack/detectors/npu_smi/npu_smi.py. `npu-smi info -t board
-i ID` prints `Key : Value` lines, among them `Software Version` (the driver) and `Firmware
Version` (quoted in intelligent-machine-learning/dlrover's npu-smi helper, get_npu_pci_bus).
Driver and firmware come from the card's Ascend HDK; their versions depend on the hardware
and the CANN version (Ascend/pytorch COMPATIBILITY.en.md, which links the download page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hwbench.doctor.finding import Finding, fail, passed, warn
from hwbench.doctor.host import Host, Ran

HEADER = re.compile(r"npu-smi\s+\S+\s+Version:\s*(\S+)")
DRIVER_FIX = (
    "install the Ascend HDK driver and firmware for your card and CANN "
    "(Ascend-hdk-<chip>-npu-driver / -npu-firmware; https://www.hiascend.com/hardware/"
    "firmware-drivers/commercial), then check `npu-smi info`"
)


@dataclass(frozen=True)
class Npu:
    id: int
    name: str
    health: str


@dataclass(frozen=True)
class SmiInfo:
    driver: str | None
    npus: tuple[Npu, ...]


def parse_info(text: str) -> SmiInfo:
    """The driver version and each NPU's id, name and health from `npu-smi info`."""
    header = HEADER.search(text)
    npus = []
    for line in text.splitlines():
        if "Process id" in line:  # the process table: rows of NPU and chip ids follow
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        words = cells[0].split() if len(cells) > 1 else []
        if len(words) >= 2 and words[0].isdigit():  # `0  910B1 | OK`, not the chip line `0 |`
            npus.append(Npu(int(words[0]), " ".join(words[1:]), cells[1]))
    return SmiInfo(header.group(1) if header else None, tuple(npus))


def parse_board(text: str) -> dict[str, str]:
    """`Key : Value` lines of `npu-smi info -t board -i ID`."""
    pairs = (line.partition(":") for line in text.splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep and key.strip()}


def check_driver(ran: Ran | None) -> Finding:
    if ran is None:
        return fail("driver", "npu-smi not found: no Ascend driver (or not on PATH)", DRIVER_FIX)
    if ran.code != 0:
        return fail(
            "driver",
            f"npu-smi info failed (exit {ran.code}): {ran.last_line()}",
            "the driver does not answer: reinstall the Ascend HDK driver for this kernel, "
            "and run npu-smi info as root to rule out permissions",
        )
    smi = parse_info(ran.out)
    if not smi.npus:
        return fail("driver", f"driver {smi.driver}, but npu-smi info lists no NPU", DRIVER_FIX)
    names = ", ".join(sorted({npu.name for npu in smi.npus}))
    found = f"driver {smi.driver}, {len(smi.npus)} NPU(s): {names}"
    sick = [npu for npu in smi.npus if npu.health.upper() != "OK"]
    if sick:
        health = ", ".join(f"NPU {npu.id} {npu.health}" for npu in sick)
        return warn("driver", f"{found}; {health}", f"npu-smi info -t health -i {sick[0].id}")
    return passed("driver", found)


def check_firmware(host: Host, smi: SmiInfo) -> Finding:
    """The first NPU's firmware version, from its board information."""
    first = smi.npus[0].id
    ran = host.run("npu-smi", "info", "-t", "board", "-i", str(first))
    board = parse_board(ran.out) if ran is not None and ran.code == 0 else {}
    firmware = board.get("Firmware Version")
    if firmware:
        return passed("firmware", f"firmware {firmware} (NPU {first})")
    why = ran.last_line() if ran is not None and ran.code != 0 else "no Firmware Version in it"
    return warn("firmware", f"npu-smi info -t board -i {first}: {why}", DRIVER_FIX)
