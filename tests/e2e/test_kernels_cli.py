"""`hwbench kernels` as a user runs it."""

import json
import subprocess

from tests.conftest import hwbench_cmd


def hwbench(*args):
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, timeout=120)


def kernels(tmp_path, *args):
    """`hwbench kernels`, saving its result under tmp_path."""
    return hwbench("kernels", "--out", str(tmp_path), *args)


def test_kernels_prints_the_table_and_the_skipped_variants(tmp_path):
    proc = kernels(tmp_path, "--kernel", "rmsnorm", "attention_decode", "--time-budget", "0.05")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "kernels on cpu, small shapes, fp32" in out
    for variant in ("eager", "fused", "compiled", "sdpa_gqa", "sdpa_repeat"):
        assert f" {variant} " in out
    assert "GB/s" in out and "n/a" in out
    assert "skipped rmsnorm/npu_rms_norm: runs on npu, not cpu" in out


def test_kernels_json_has_one_row_per_variant(tmp_path):
    proc = kernels(tmp_path, "--kernel", "swiglu", "--time-budget", "0.05", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    assert [r["variant"] for r in rows] == ["eager", "silu_mul", "compiled", "npu_swiglu"]
    assert rows[0]["status"] == "ok" and rows[0]["bound"] == "memory"


def test_an_unknown_kernel_exits_2_naming_the_valid_ones(tmp_path):
    proc = kernels(tmp_path, "--kernel", "layernorm")
    assert proc.returncode == 2
    assert "unknown kernel 'layernorm'" in proc.stderr and "rmsnorm" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unknown_device_exits_2(tmp_path):
    proc = kernels(tmp_path, "--device", "tpu")
    assert proc.returncode == 2 and "unknown device 'tpu'" in proc.stderr
