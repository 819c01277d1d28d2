"""hwbench's base install (no extras) must list and load every plug-in: the libraries of the
extras (aiohttp, vllm, transformers, onnxruntime, ...) are imported only where they are used."""

import subprocess
import sys

OPTIONAL = ("aiohttp", "vllm", "transformers", "tokenizers", "safetensors", "onnx", "onnxruntime")
SCRIPT = f"""
import builtins
real = builtins.__import__
def without_extras(name, *args, **kwargs):
    if name.split(".")[0] in {OPTIONAL!r}:
        raise ImportError(f"{{name}} is not installed (blocked by the test)")
    return real(name, *args, **kwargs)
builtins.__import__ = without_extras
from hwbench.registry import plugins
import hwbench.cli, hwbench.execution.runner, hwbench.execution.worker, hwbench.pytest_plugin
kinds = ("engines", "scenarios", "workloads")
print(" ".join(sorted(name for kind in kinds for name in plugins(kind))))
"""


def test_every_plugin_loads_without_the_extras():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = set(done.stdout.split())
    assert {"vllm", "onnxruntime", "serve", "generate", "hf", "llama"} <= names
