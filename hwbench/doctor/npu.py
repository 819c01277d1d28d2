"""Huawei Ascend NPUs: torch_npu, the CANN toolkit, the driver and firmware, the visible
devices, and the engines' NPU builds (each check in its own module; this one runs them)."""

from __future__ import annotations

from collections.abc import Mapping

from hwbench.backends.npu import visible_devices_warning
from hwbench.doctor import cann, npu_smi, torch_npu
from hwbench.doctor.engines import check_onnxruntime, check_vllm
from hwbench.doctor.finding import Finding, fail, passed
from hwbench.doctor.host import Host


def check_visible(env: Mapping[str, str]) -> Finding:
    """ASCEND_RT_VISIBLE_DEVICES, judged as hwbench's npu device judges it."""
    value = env.get("ASCEND_RT_VISIBLE_DEVICES")
    if not value:
        return passed("visible devices", "ASCEND_RT_VISIBLE_DEVICES unset: every NPU is visible")
    problem = visible_devices_warning(value)
    if problem:
        return fail(
            "visible devices",
            problem,
            "list NPU ids in ascending order, e.g. ASCEND_RT_VISIBLE_DEVICES=0,1, or unset it",
        )
    return passed("visible devices", f"ASCEND_RT_VISIBLE_DEVICES={value}")


def npu_findings(host: Host) -> list[Finding]:
    torch, npu = host.version("torch"), host.version("torch_npu")
    toolkit = cann.find_toolkit(host)
    version = cann.cann_version(toolkit) if toolkit else None
    findings = [torch_npu.check_installed(npu, torch, version)]
    if npu is not None:
        set_env = cann.set_env_script(toolkit) if toolkit else "<install>/set_env.sh"
        findings.append(torch_npu.check_pairing(npu, torch, version))
        findings.append(torch_npu.check_loads(host.device_ready("npu"), str(set_env)))
    findings.append(cann.check_toolkit(host, toolkit, cann.paired_cann(npu, torch)))
    if toolkit is not None:
        findings.append(cann.check_environment(host.env, toolkit))
        findings.append(cann.check_version(version, toolkit, npu, torch))
    ran = host.run("npu-smi", "info")
    findings.append(npu_smi.check_driver(ran))
    smi = npu_smi.parse_info(ran.out) if ran is not None and ran.code == 0 else None
    if smi is not None and smi.npus:
        findings.append(npu_smi.check_firmware(host, smi))
    findings.append(check_visible(host.env))
    return [*findings, check_onnxruntime("npu", host), check_vllm("npu", host)]
