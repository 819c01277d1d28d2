"""The host CPU: always ready; torch's, onnxruntime's and vLLM's versions for the record."""

from __future__ import annotations

from hwbench.doctor.engines import check_onnxruntime, check_vllm
from hwbench.doctor.finding import Finding, info
from hwbench.doctor.host import Host


def cpu_findings(host: Host) -> list[Finding]:
    torch = info("torch", f"torch {host.version('torch')}")
    return [torch, check_onnxruntime("cpu", host), check_vllm("cpu", host)]
