"""Every check of a device, by the device's name."""

from __future__ import annotations

from collections.abc import Callable

from hwbench.doctor.cpu import cpu_findings
from hwbench.doctor.cuda import cuda_findings
from hwbench.doctor.finding import Finding, fail, passed
from hwbench.doctor.host import Host
from hwbench.doctor.npu import npu_findings

CHECKS: dict[str, Callable[[Host], list[Finding]]] = {
    "cpu": cpu_findings,
    "cuda": cuda_findings,
    "npu": npu_findings,
}


def diagnose(device: str, host: Host) -> list[Finding]:
    """`device`'s checks; a device without checks of its own (a plug-in) gets hwbench's verdict."""
    checks = CHECKS.get(device)
    if checks is not None:
        return checks(host)
    ok, reason = host.device_ready(device)
    if ok:
        return [passed("device", "hwbench sees it")]
    return [fail("device", reason, f"see the documentation of the plug-in that adds {device}")]
