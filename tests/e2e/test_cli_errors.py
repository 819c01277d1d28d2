"""Bad input: one short line on stderr naming the valid choices, exit code 2, no traceback."""

import subprocess

import pytest

from tests.conftest import hwbench_cmd


def run(*args, **kwargs):
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, timeout=120, **kwargs)


def assert_usage_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error message"
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--workload", "gpt5"], ["unknown workload 'gpt5'", "llama", "mlp"]),
        (["--target", "torch@tpu"], ["unknown device 'tpu'", "cpu, cuda, npu"]),
        (["--target", "jax@cpu"], ["unknown engine 'jax'", "torch"]),
        (
            ["--scenario", "offline"],
            ["unknown scenario 'offline'", "latency, loadgen-multistream, loadgen-offline"],
        ),
        (["--size", "huge"], ["unknown size 'huge'", "full, small, tiny"]),
        (["--batch", "x"], ["--batch takes integers"]),
        (["--dtype", "fp64"], ["unknown dtype 'fp64'"]),
        (["--passes", "0"], ["passes (--passes) must be an integer >= 1"]),
        (["--live-cases", "0"], ["live_cases (--live-cases) must be an integer >= 1"]),
        (["--time-budget", "nan"], ["time_budget_s (--time-budget) must be a finite number > 0"]),
        (["--timeout", "inf"], ["case_timeout_s (--timeout) must be a finite number > 0"]),
        (["--seed", str(10**23)], ["seed (--seed) must be an integer >= 0"]),
    ],
)
def test_unknown_names_list_the_valid_ones(tmp_path, args, fragments):
    assert_usage_error(run("run", "--out", str(tmp_path), *args), *fragments)


def test_malformed_suite_file(tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text("workloads = [mlp]\n")
    assert_usage_error(run("run", "--suite", str(suite), "--out", str(tmp_path)), "not valid TOML")


def test_output_directory_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_usage_error(
        run("run", "--workload", "mlp", "--out", str(blocker / "results")),
        "cannot write results to",
    )


@pytest.mark.parametrize("make_dir", [False, True])
def test_model_path_that_holds_no_model(tmp_path, make_dir):
    path = tmp_path / "model"
    if make_dir:
        path.mkdir()
        (path / "README.txt").write_text("not a model")
    assert_usage_error(run("run", "--model", str(path), "--out", str(tmp_path)), str(path))


def test_unknown_subcommand_is_a_usage_error():
    result = run("fly")
    assert result.returncode == 2 and "Traceback" not in result.stderr
