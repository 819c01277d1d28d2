"""A scenario is one file: a new one, loaded as a plug-in, runs through `hwbench run` and is
read by `report` and `export` with nothing else changed."""

import subprocess

from hwbench.results import store
from tests.conftest import hwbench_cmd
from tests.e2e.test_cli_run import QUICK, result_files, run


def test_a_scenario_in_one_file_runs_end_to_end(tmp_path, plugin_env):
    env = {**plugin_env, "HWBENCH_PLUGINS": "hwbench_test_scenario"}
    proc = run(
        "--workload", "mlp", "--target", "torch@cpu", "--scenario", "test-batch3",
        "--passes", "2", "--out", str(tmp_path), *QUICK, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [path] = result_files(tmp_path)
    [case] = store.load(path)["cases"]
    assert case.status == "ok" and case.parity["passed"], case.reason
    assert case.key["scenario"] == "test-batch3" and case.key["input_shapes"] == [[3, 256]]
    assert case.metrics["throughput"] == 3e3 / case.metrics["latency_ms"]["p50"]
    assert len(case.sampling.pass_starts) == 2  # interleaved in passes, as any step scenario
    for command in (["report", str(path), "-o", str(tmp_path / "r.html")],
                    ["export", str(path), "-o", str(tmp_path / "pb.json")]):  # fmt: skip
        done = subprocess.run(hwbench_cmd(*command), capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
    assert "test-batch3" in (tmp_path / "r.html").read_text()
