"""`hwbench run` end to end on tiny workloads, as a user runs it."""

import json
import subprocess

import pytest

from hwbench.results import store
from tests.conftest import hwbench_cmd

QUICK = ["--time-budget", "0.3", "--machine", "testbox"]


def result_files(out):
    return sorted((out / "testbox").glob("*.json"))


def run(*args, env=None, timeout=300):
    return subprocess.run(
        hwbench_cmd("run", *args), capture_output=True, text=True, timeout=timeout, env=env
    )


def test_run_writes_a_valid_result_with_samples_and_parity(tmp_path):
    proc = run(
        "--workload",
        "mlp",
        "--target",
        "torch@cpu",
        "--target",
        "torch@cuda",
        "--scenario",
        "latency",
        "--out",
        str(tmp_path),
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    assert "mlp/tiny latency b1" in proc.stdout
    [path] = result_files(tmp_path)
    document = store.load(path)
    ok, skipped = document["cases"]
    assert ok.status == "ok" and ok.parity["passed"]
    assert ok.key["input_shapes"] == [[1, 256]]
    assert len(ok.samples_ns) == ok.metrics["latency_ms"]["n"] >= 1
    assert ok.sampling.stop_reason in {"converged", "time_budget"}
    assert ok.timings.prepare_s > 0 and ok.timings.first_run_s > 0
    assert ok.memory["peak_allocated"] > 0
    assert skipped.status == "skipped" and "device cuda unavailable" in skipped.reason
    assert document["environment"]["packages"]["torch"]
    assert document["devices"]["cpu"]["info"]["logical_cores"] >= 1


def test_json_output_is_the_result_document(tmp_path):
    proc = run(
        "--workload",
        "mlp",
        "--target",
        "torch@cpu",
        "--scenario",
        "latency",
        "--json",
        "--out",
        str(tmp_path),
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cases"][0]["status"] == "ok"


def test_failing_backends_are_recorded_and_the_suite_goes_on(tmp_path, plugin_env):
    targets = ["test-raise@cpu", "test-crash@cpu", "test-hang@cpu", "test-perturb@cpu", "torch@cpu"]
    proc = run(
        "--workload",
        "mlp",
        "--scenario",
        "latency",
        "--timeout",
        "20",
        *[arg for t in targets for arg in ("--target", t)],
        "--out",
        str(tmp_path),
        *QUICK,
        env=plugin_env,
    )
    assert proc.returncode == 1, proc.stderr
    [path] = result_files(tmp_path)
    by_engine = {c.key["engine"]: c for c in store.load(path)["cases"]}
    assert "backend exploded on purpose" in by_engine["test-raise"].reason
    assert "killed by signal 9" in by_engine["test-crash"].reason
    assert "timed out after 20 s" in by_engine["test-hang"].reason
    perturbed = by_engine["test-perturb"]
    assert perturbed.reason.startswith("parity: relative L2 error")
    assert perturbed.metrics is None  # no speed for a wrong answer
    assert by_engine["torch"].status == "ok"
    assert all(c.status == "failed" for e, c in by_engine.items() if e != "torch")


@pytest.mark.parametrize(("live_cases", "interleaved"), [("4", True), ("1", False)])
def test_passes_take_turns_across_the_cases_kept_live(tmp_path, live_cases, interleaved):
    proc = run(
        "--workload", "mlp", "--target", "torch@cpu", "--scenario", "latency,throughput",
        "--batch", "1", "--passes", "3", "--live-cases", live_cases, "--out", str(tmp_path),
        *QUICK,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first, second = store.load(result_files(tmp_path)[0])["cases"]
    assert [first.key["scenario"], second.key["scenario"]] == ["latency", "throughput"]
    for case in (first, second):
        assert case.status == "ok"
        starts = case.sampling.pass_starts
        assert len(starts) == 3 and starts[0] == 0
        assert list(starts) == sorted(set(starts))  # samples in each pass
        assert case.sampling.stop_reason in {"converged", "time_budget"}
    if interleaved:  # the second case's first pass comes between the first case's passes
        first_times, second_times = first.sampling.pass_times, second.sampling.pass_times
        assert first_times[0] < second_times[0] < first_times[1]
    else:  # one live case at a time: its passes back to back
        assert first.sampling.pass_times[2] < second.sampling.pass_times[0]


def test_list_explains_every_device():
    proc = subprocess.run(hwbench_cmd("list"), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for device in ("cpu", "cuda", "npu"):
        assert device in proc.stdout
    assert "unavailable" in proc.stdout  # no accelerator in CI


def test_env_prints_the_fingerprint():
    proc = subprocess.run(hwbench_cmd("env"), capture_output=True, text=True, timeout=120)
    assert json.loads(proc.stdout)["packages"]["torch"]


def test_suite_file_and_flags_together(tmp_path):
    suite = tmp_path / "mine.toml"
    suite.write_text(
        'name = "mine"\nworkloads = ["bert"]\nscenarios = ["throughput"]\n'
        'targets = ["torch@cpu"]\nbatches = [2]\n'
    )
    proc = run("--suite", str(suite), "--dtype", "bf16", "--out", str(tmp_path), *QUICK)
    assert proc.returncode == 0, proc.stderr
    [path] = result_files(tmp_path)
    assert path.name.endswith("-mine.json")
    [case] = store.load(path)["cases"]
    assert (case.key["workload"], case.key["batch"], case.key["dtype"]) == (
        "bert",
        2,
        "bf16",
    )
    assert case.status == "ok" and case.parity["tolerance"] == 2e-2


def test_a_users_hugging_face_directory_is_a_workload(tmp_path):
    transformers = __import__("pytest").importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    model_dir = tmp_path / "tiny-llama"
    transformers.LlamaForCausalLM(config).save_pretrained(model_dir)
    proc = run(
        "--model",
        str(model_dir),
        "--target",
        "torch@cpu,torch-compile@cpu,onnxruntime@cpu",
        "--scenario",
        "latency",
        "--out",
        str(tmp_path),
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    cases = store.load(result_files(tmp_path)[0])["cases"]
    assert [c.key["engine"] for c in cases] == ["torch", "torch-compile", "onnxruntime"]
    for case in cases:
        assert case.status == "ok" and case.key["model_path"] == str(model_dir)
        assert case.workload["family"] == "decoder" and case.parity["passed"]
