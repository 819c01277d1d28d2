"""`hwbench doctor --device npu` as a user runs it, on a machine without torch_npu or CANN."""

from __future__ import annotations

import os
import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.conftest import hwbench_cmd


def test_doctor_names_what_the_npu_lacks_and_how_to_install_it(tmp_path: Path) -> None:
    if find_spec("torch_npu") is not None or Path("/usr/local/Ascend").exists():
        pytest.skip("this machine has part of the Ascend stack")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASCEND_")}
    env["HOME"] = str(tmp_path)  # no $HOME/Ascend either
    done = subprocess.run(
        hwbench_cmd("doctor", "--device", "npu"),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "npu: not ready" in out
    assert "torch_npu is not installed" in out and "pip install 'torch-npu==" in out
    assert "no CANN toolkit" in out and "Ascend-cann-toolkit_<version>_linux-<arch>.run" in out
    assert "npu-smi not found" in out
    assert "not ready: npu (3 problems)" in out
