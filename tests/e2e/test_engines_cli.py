"""The three engines side by side through the CLI, parity recorded for each."""

import subprocess

from hwbench.config import Suite
from hwbench.execution.plan import expand
from hwbench.results import store
from tests.conftest import hwbench_cmd

ENGINES = ["torch", "torch-compile", "onnxruntime"]


def run(tmp_path, *args):
    return subprocess.run(
        hwbench_cmd("run", "--out", str(tmp_path), "--machine", "box", *args),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_llama_on_three_engines_gives_three_ok_cases_with_parity(tmp_path):
    targets = [arg for e in ENGINES for arg in ("--target", f"{e}@cpu")]
    proc = run(
        tmp_path,
        "--workload",
        "llama",
        "--size",
        "tiny",
        "--scenario",
        "latency",
        "--time-budget",
        "0.5",
        *targets,
    )
    assert proc.returncode == 0, proc.stderr
    [path] = (tmp_path / "box").glob("*.json")
    cases = store.load(path)["cases"]
    assert [c.key["engine"] for c in cases] == ENGINES
    for case in cases:
        assert case.status == "ok", case.reason
        assert case.parity["passed"] and case.parity["rel_l2"] <= 1e-4
        assert case.metrics["latency_ms"]["p50"] > 0
    compiled = cases[1].session
    assert compiled["compiled_in"] == "prepare" and compiled["recompiles_after_first_run"] == 0
    assert cases[2].session["providers"][0] == "CPUExecutionProvider"


def test_check_only_checks_parity_and_times_nothing(tmp_path):
    proc = run(
        tmp_path,
        "--workload",
        "mlp",
        "--scenario",
        "latency",
        "--check-only",
        "--target",
        "torch@cpu",
        "--target",
        "onnxruntime@cpu",
    )
    assert proc.returncode == 0, proc.stderr
    [path] = (tmp_path / "box").glob("*.json")
    for case in store.load(path)["cases"]:
        assert case.status == "ok" and case.parity["passed"]
        assert case.metrics is None and not case.samples_ns


def test_bad_engine_option_value_is_a_usage_error(tmp_path):
    proc = run(tmp_path, "--workload", "mlp", "--target", "torch-compile@cpu:mode=fastest")
    assert proc.returncode == 2
    assert "mode" in proc.stderr and "max-autotune" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_default_suite_runs_all_three_engines_on_the_cpu():
    suite = Suite()
    cpu_engines = [t.engine for t in suite.targets if t.device == "cpu"]
    assert cpu_engines[0] == "torch"
    assert sorted(cpu_engines) == sorted([*ENGINES, "transformers", "vllm"])
    # vllm runs only generate and serve: the default (step) scenarios make no vllm case
    engines_with_cases = {c.parsed_target.engine for c in expand(suite)}
    assert engines_with_cases == {*ENGINES, "transformers"}
