"""`hwbench port` as a user runs it: against a torch_npu wheel (hand-made here, laid out as
torch-npu 2.13.0's), a --model directory, two cached releases compared, no list at all, and
its section in `hwbench report`."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from hwbench.port import sources
from hwbench.port.oplist import OPLIST_PATH
from tests.conftest import hwbench_cmd

ROOT = Path(__file__).parents[2]
RESULT = ROOT / "results" / "amd-epyc-2core" / "20261203T140954Z-fp32-vs-bf16.json"
# What llama tiny's forward needs, but silu (planted missing: a CPU fallback) and the fused
# operators but npu_swiglu.
NATIVE = ("as_strided", "view", "matmul", "mm", "scaled_dot_product_attention", "mul.Tensor",
          "add.Tensor", "embedding", "pow.Tensor_Scalar", "cat", "repeat_interleave.self_int",
          "mean.dim", "clone", "neg", "index.Tensor", "rsqrt", "arange")  # fmt: skip
CUSTOM = ("npu_rms_norm", "npu_rotary_mul", "npu_fused_infer_attention_score")


def oplist(native: tuple[str, ...], custom: tuple[str, ...] = CUSTOM) -> str:
    supported = "".join(f"- func: {op}\n  impl_ns: acl_op, op_api\n" for op in native)
    return "supported:\n" + supported + "custom:\n" + "".join(f"- func: {op}\n" for op in custom)


def wheel(directory: Path, version: str, text: str) -> Path:
    path = directory / f"torch_npu-{version}-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(path, "w") as made:
        made.writestr(OPLIST_PATH, text)
        made.writestr(f"torch_npu-{version}.dist-info/METADATA", f"Version: {version}\n")
    return path


def port(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    command = hwbench_cmd("port", "--out", str(tmp_path / "results"), "--machine", "m", *args)
    environment = {**os.environ, **env}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)


def test_llama_against_a_wheel_lists_every_op_the_planted_fallback_and_fused_ops(tmp_path):
    listed = wheel(tmp_path, "9.9.9", oplist(NATIVE))
    proc = port(tmp_path, "--workload", "llama", "--op-list", str(listed))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "hwbench port: llama/tiny fp32 against torch_npu 9.9.9" in out
    assert "│ silu " in out and "cpu fallback" in out  # planted: not in the list
    assert "npu_rms_norm" in out and "fused-npu-ops" in out and "not listed" in out
    assert "allow_fp32_to_fp16" in out and "what this cannot say" in out
    (saved,) = (tmp_path / "results" / "m").glob("*-port.json")
    assert f"results: {saved}" in proc.stderr
    document = json.loads(saved.read_text())
    assert document["schema"] == "hwbench-port" and document["op_list"]["version"] == "9.9.9"
    verdicts = {op["op"]: op["verdict"] for op in document["ops"]}
    assert verdicts["silu"] == "cpu fallback" and verdicts["linear"] == "composite"
    assert verdicts["matmul"] == "native" and document["counts"]["cpu fallback"] == 1
    assert document["totals"]["flops"] == document["workload"]["flops"]


def test_the_report_gets_a_port_section(tmp_path):
    listed = wheel(tmp_path, "9.9.9", oplist(NATIVE))
    assert port(tmp_path, "--workload", "mlp", "--op-list", str(listed)).returncode == 0
    (saved,) = (tmp_path / "results" / "m").glob("*-port.json")
    report = tmp_path / "r.html"
    done = subprocess.run(hwbench_cmd("report", str(RESULT), str(saved), "-o", str(report)),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = report.read_text()
    assert "Porting to Ascend" in page and '<td class="failed">cpu fallback</td>' in page


def test_compare_versions_shows_what_became_native(tmp_path):
    cache = tmp_path / "cache"
    (cache / "torch_npu").mkdir(parents=True)
    wheel(cache / "torch_npu", "9.9.8", oplist(("mm", "as_strided"), ()))
    wheel(cache / "torch_npu", "9.9.9", oplist(("mm", "as_strided", "gelu.out")))
    proc = port(tmp_path, "--workload", "mlp", "--compare-versions", "9.9.8", "9.9.9",
                HWBENCH_CACHE_DIR=str(cache))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "what changed from 9.9.8 to 9.9.9" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if "│ gelu " in line)
    assert "cpu fallback" in row and "native (acl_op/op_api via gelu.out)" in row


@pytest.mark.skipif(sources.installed() is not None, reason="torch_npu is installed here")
def test_without_torch_npu_it_lists_the_ops_and_says_how_to_get_a_list(tmp_path):
    proc = port(tmp_path, "--workload", "mlp", HWBENCH_CACHE_DIR=str(tmp_path / "cache"))
    assert proc.returncode == 0, proc.stderr
    assert "unchecked" in proc.stdout and "pip download torch-npu==" in proc.stdout


def test_a_hugging_face_directory_is_ported(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=1, num_attention_heads=2,
                                      num_key_value_heads=1)  # fmt: skip
    model_dir = tmp_path / "tiny-llama"
    transformers.LlamaForCausalLM(config).save_pretrained(model_dir)
    listed = wheel(tmp_path, "9.9.9", oplist(NATIVE))
    proc = port(tmp_path, "--model", str(model_dir), "--op-list", str(listed), "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["workload"]["model_path"] == str(model_dir)
    assert {s["pattern"] for s in document["fused"]} >= {"RMSNorm", "rotary embedding", "SwiGLU"}
