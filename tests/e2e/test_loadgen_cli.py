"""`hwbench run --scenario loadgen-*` end to end: the official LoadGen runs (its logs kept
beside the result and read back), parity on its accuracy run, an INVALID run reported as
INVALID with LoadGen's reason, and compare, gate and report reading LoadGen records."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess

import pytest

from hwbench.loadgen.summary import DETAIL, SUMMARY, figures
from hwbench.results import store
from hwbench.results.logs import log_dir
from tests.conftest import hwbench_cmd

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlperf_loadgen") is None, reason="mlcommons-loadgen not installed"
)
LLAMA = ["--workload", "llama", "--size", "tiny", "--target", "torch@cpu", "--machine", "box"]


def hwbench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, timeout=timeout)


def run(tmp_path, *args: str):
    done = hwbench("run", "--out", str(tmp_path), *LLAMA, *args)
    [path] = (tmp_path / "box").glob("*.json")
    return done, path, store.load(path)["cases"]


@pytest.mark.slow
def test_loadgen_runs_keeps_its_logs_and_compare_gate_report_read_its_records(tmp_path):
    done, path, cases = run(
        tmp_path, "--scenario", "loadgen-singlestream,loadgen-offline", "--min-duration-ms", "300"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    single, offline = cases
    assert single.status == offline.status == "ok", (single.reason, offline.reason)
    logs = log_dir(path) / "case000-loadgen"
    assert single.details["loadgen_logs"] == str(logs.resolve())
    assert (logs / DETAIL).is_file() and (logs / "accuracy" / SUMMARY).is_file()
    judged = figures(logs)  # LoadGen's own logs, parsed again
    assert judged["result"] == "VALID" and judged["scenario"] == "SingleStream"
    assert single.details["loadgen"]["p90_ms"] == judged["p90_ms"] > 0
    assert f"p90 {judged['p90_ms']:.4g} ms" in single.sampling.stop_reason
    assert single.parity["passed"] and single.parity["compared"].startswith("64 of 64 samples")
    assert offline.metrics["throughput"] == offline.details["loadgen"]["samples_per_s"] > 0
    assert single.key["loadgen"] == "300ms/100q" and offline.key["batch"] == 32

    gate = hwbench("gate", "--baseline", str(path), "--candidate", str(path))
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "loadgen-singlestream" in gate.stdout and "FAIL" not in gate.stdout
    compared = hwbench("compare", str(path), str(path))
    assert compared.returncode == 0 and "loadgen-offline" in compared.stdout, compared.stderr
    report = tmp_path / "report.html"
    made = hwbench("report", str(path), "-o", str(report))
    assert made.returncode == 0, made.stderr
    section = report.read_text().split("<h2>MLPerf LoadGen</h2>")[1]
    assert (logs / SUMMARY).resolve().as_uri() in section
    assert "90th percentile latency" in section and "samples per second" in section


@pytest.mark.slow
def test_a_rate_the_cpu_cannot_hold_is_invalid_with_loadgens_reason_and_no_number(tmp_path):
    done, path, [case] = run(
        tmp_path, "--scenario", "loadgen-server", "--target-qps", "5000",
        "--min-query-count", "500", "--min-duration-ms", "100", "--json",
    )  # fmt: skip
    # 500 queries arrive within 0.1 s; at >= 0.5 ms a step, the p99 waits far past 100 ms
    assert done.returncode == 1, done.stderr
    assert case.status == "failed" and case.metrics is None and not case.samples_ns
    assert case.reason == "LoadGen: INVALID: Reduce target QPS to improve latency."
    summary = (log_dir(path) / "case000-loadgen" / SUMMARY).read_text()
    assert "Result is : INVALID" in summary
    assert case.details["loadgen"]["result"] == "INVALID"
    assert case.parity["passed"]  # parity came first, and passed
    printed = json.loads(done.stdout)["cases"][0]
    assert printed["status"] == "failed" and "metrics" not in printed


def test_a_bad_loadgen_setting_is_one_line_and_exit_2(tmp_path):
    done = hwbench("run", "--out", str(tmp_path), *LLAMA, "--scenario", "loadgen-server",
                   "--target-qps", "0")  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert re.fullmatch(r"[^\n]*server_target_qps \(--target-qps\)[^\n]*\n", done.stderr)
