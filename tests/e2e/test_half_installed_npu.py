"""A half-installed Ascend stack: PyPI's torch-npu wheel without Huawei's CANN libraries.

There, a plain `import torch` fails (torch auto-loads the torch_npu backend) and `import
torch_npu` raises ImportError for libhccl.so. hwbench must still list the npu with that reason
and run the CPU cases. The wheel (43 MB) is fetched once into ~/.cache/hwbench/wheels and
unpacked once beside it; the tests skip when it cannot be fetched (no network).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import hwbench_cmd

pytestmark = pytest.mark.slow

WHEEL = "torch-npu==2.13.0"  # the torch-npu release for torch 2.13
CACHE = Path.home() / ".cache" / "hwbench"


def pip(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def fetch_wheel(wheels: Path) -> None:
    """Download the wheel into `wheels` unless it is there; skip the tests if it cannot be."""
    if list(wheels.glob("torch_npu-2.13.0-*.whl")):
        return
    proc = pip(
        "download", "--retries", "1", "--timeout", "20", "--no-deps", "--dest", str(wheels), WHEEL
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot fetch {WHEEL} from PyPI (no network?): {last}")


@pytest.fixture(scope="module")
def torch_npu_dir() -> Path:
    """A folder holding torch_npu (and no CANN), for PYTHONPATH."""
    target = CACHE / "torch-npu-2.13.0"
    if (target / "torch_npu").is_dir():
        return target
    wheels = CACHE / "wheels"
    fetch_wheel(wheels)
    staging = CACHE / f".torch-npu-{os.getpid()}"
    offline = ["--no-deps", "--no-index", "--find-links", str(wheels)]
    proc = pip("install", *offline, "--target", str(staging), WHEEL)
    assert proc.returncode == 0, proc.stderr
    os.replace(staging, target)  # a half-unpacked folder is never used
    return target


@pytest.fixture
def npu_env(torch_npu_dir) -> dict[str, str]:
    """The user's environment: torch_npu importable, autoload not disabled by anyone but us."""
    env = {
        key: value for key, value in os.environ.items() if key != "TORCH_DEVICE_BACKEND_AUTOLOAD"
    }
    path = os.pathsep.join(filter(None, [str(torch_npu_dir), env.get("PYTHONPATH")]))
    return {**env, "PYTHONPATH": path, "COLUMNS": "200"}


def test_the_stack_is_really_half_installed(npu_env):
    proc = subprocess.run(
        [sys.executable, "-c", "import torch"], capture_output=True, text=True, env=npu_env
    )
    assert proc.returncode != 0
    assert "Failed to load the backend extension: torch_npu" in proc.stderr


def test_list_explains_the_npu_and_offers_the_cpu(npu_env):
    proc = subprocess.run(hwbench_cmd("list"), capture_output=True, text=True, env=npu_env)
    assert proc.returncode == 0, proc.stderr
    [npu_row] = [line for line in proc.stdout.splitlines() if "│ npu" in line]
    assert "unavailable" in npu_row and "torch_npu cannot be imported: libhccl.so" in npu_row
    [cpu_row] = [line for line in proc.stdout.splitlines() if "│ cpu" in line]
    assert "available" in cpu_row and "unavailable" not in cpu_row


def test_run_does_the_cpu_case_and_skips_the_npu_one(npu_env, tmp_path):
    args = ["--workload", "mlp", "--scenario", "latency", "--time-budget", "0.3"]
    args += ["--target", "torch@cpu", "--target", "torch@npu", "--out", str(tmp_path)]
    proc = subprocess.run(
        hwbench_cmd("run", *args, "--machine", "half", "--json"),
        capture_output=True,
        text=True,
        env=npu_env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    cases = {case["key"]["device"]: case for case in json.loads(proc.stdout)["cases"]}
    assert cases["cpu"]["status"] == "ok"
    assert cases["npu"]["status"] == "skipped"
    assert "libhccl.so" in cases["npu"]["reason"]
