"""`hwbench run --target transformers@cpu` as a user runs it: generate on the llama workload and
on a `--model` directory, the step scenarios on llama and bert, parity passed in each; the
workloads without a Hugging Face form skipped with the reason."""

from __future__ import annotations

import os
import subprocess

import pytest

from hwbench.llm.checkpoint import save_checkpoint
from hwbench.results import store
from hwbench.workloads import make_workload
from tests.conftest import hwbench_cmd

pytest.importorskip("transformers")
pytestmark = pytest.mark.slow


def run(tmp_path, *args):
    env = {**os.environ, "HWBENCH_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        hwbench_cmd("run", "--out", str(tmp_path / "out"), "--machine", "box", "--size", "tiny",
                    "--time-budget", "0.3", "--target", "transformers@cpu", *args),
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    [path] = (tmp_path / "out" / "box").glob("*.json")
    return store.load(path)["cases"]


def check_generation(case, output_len):
    assert case.status == "ok", case.reason
    assert case.key["engine"] == "transformers"
    assert case.parity["passed"] and case.parity["rel_l2"] <= 1e-4
    llm = case.metrics["llm"]
    assert 0 < llm["median_ttft_ms"] < llm["median_e2el_ms"] and llm["median_tpot_ms"] > 0
    expected = llm["mean_ttft_ms"] + (output_len - 1) * llm["mean_tpot_ms"]
    assert llm["mean_e2el_ms"] == pytest.approx(expected, rel=1e-6)
    assert len(case.details["token_times_s"][0][0]) == output_len
    assert case.session["attn_implementation"] == "sdpa"


def test_generate_on_llama_with_parity(tmp_path):
    args = ("--prompt-len", "24", "--output-len", "6", "--batch", "1")
    [case] = run(tmp_path, "--workload", "llama", "--scenario", "generate", *args)
    check_generation(case, 6)
    assert case.parity["greedy_token_match"] == 1.0
    assert case.session["model_class"] == "LlamaForCausalLM"


def test_generate_on_a_model_directory_with_parity(tmp_path):
    directory = tmp_path / "tiny-llama"
    directory.mkdir()
    save_checkpoint(make_workload("llama", "tiny", seed=3), directory)
    args = ("--prompt-len", "16", "--output-len", "4", "--batch", "2")
    [case] = run(tmp_path, "--model", str(directory), "--scenario", "generate", *args)
    check_generation(case, 4)
    assert case.key["input_shapes"] == [[2, 16]] and case.session["checkpoint"] == str(directory)


def test_step_scenarios_run_llama_and_bert_and_skip_what_has_no_hugging_face_form(tmp_path):
    cases = run(
        tmp_path, "--workload", "llama", "--workload", "bert", "--workload", "mlp",
        "--workload", "resnet50", "--scenario", "latency", "--scenario", "throughput",
        "--batch", "2",
    )  # fmt: skip
    by_workload: dict[str, list] = {}
    for case in cases:
        by_workload.setdefault(case.key["workload"], []).append(case)
    for name in ("llama", "bert"):
        for case in by_workload[name]:
            assert case.status == "ok", case.reason
            assert case.parity["passed"] and case.metrics["latency_ms"]["p50"] > 0
    for name in ("mlp", "resnet50"):
        for case in by_workload[name]:
            assert case.status == "skipped"
            assert case.reason == f"workload {name} has no Hugging Face architecture to save as"
