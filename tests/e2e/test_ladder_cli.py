"""`hwbench ladder` as a user runs it: the CPU ladder climbed, the others listed as skipped."""

from __future__ import annotations

import json
import subprocess

import pytest

from hwbench.ladders.base import ladder_for
from tests.conftest import hwbench_cmd


def ladder(tmp_path, *args, timeout=300):
    cmd = hwbench_cmd("ladder", "--out", str(tmp_path), "--machine", "box", *args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def result(tmp_path):
    [path] = (tmp_path / "box").glob("*.json")
    return path, json.loads(path.read_text())


def test_the_cpu_ladder_prints_every_rung_with_gains_and_saves_them(tmp_path):
    proc = ladder(tmp_path, "--workload", "llama", "--device", "cpu", "--time-budget", "0.2")
    assert proc.returncode in (0, 1), proc.stderr  # 1: a rung failed (and is reported)
    path, document = result(tmp_path)
    assert path.name.endswith("-ladder-cpu-llama.json") and document["suite"] == "ladder-cpu-llama"
    names = [rung.name for rung in ladder_for("cpu").rungs]
    assert document["ladder"] == names and [c["rung"] for c in document["cases"]] == names
    table = proc.stdout
    for name in names:
        assert f" {name} " in table
    by_rung = {case["rung"]: case for case in document["cases"]}
    assert document["ladder"][0] == "stock-transformers"
    for rung in ("stock-transformers", "fp32-eager", "bf16"):
        assert by_rung[rung]["status"] == "ok", by_rung[rung]["reason"]
    assert by_rung["stock-transformers"]["key"]["engine"] == "transformers"
    assert all(case["key"]["workload"] == "llama" for case in document["cases"])
    assert by_rung["fused-kernels"]["key"]["options"]["kernels"] == "fused"
    assert table.count("x ") >= 4  # gains, e.g. "3.65x"
    int8 = by_rung["int8-dynamic"]
    assert int8["status"] == "ok" or int8["reason"].startswith("parity:")
    assert proc.returncode == int(any(c["status"] == "failed" for c in document["cases"]))


@pytest.mark.parametrize("device", ["npu", "cuda"])
def test_ladders_without_their_device_list_every_rung_as_skipped(tmp_path, device):
    proc = ladder(tmp_path, "--workload", "moe", "--device", device, timeout=120)
    assert proc.returncode == 0, proc.stderr
    _, document = result(tmp_path)
    assert {case["status"] for case in document["cases"]} == {"skipped"}
    for index, rung in enumerate(ladder_for(device).rungs, start=1):
        assert f" {rung.name} " in proc.stdout
        assert f"{index}. {rung.name} [{rung.target}]: " in proc.stdout
    assert f"device {device} unavailable" in proc.stdout


def test_a_ladder_for_an_unknown_device_exits_2(tmp_path):
    proc = ladder(tmp_path, "--workload", "llama", "--device", "tpu", timeout=60)
    assert proc.returncode == 2 and "valid: cpu, cuda, npu" in proc.stderr
    assert "Traceback" not in proc.stderr
