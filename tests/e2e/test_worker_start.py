"""Each case's worker, forked from the fork server or spawned: the case's environment, its
stderr kept as the reason it died, and nothing it started left running."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from hwbench.execution import process
from hwbench.execution.process import _same_but_runtime
from hwbench.results import store
from tests.conftest import plugin_environment
from tests.e2e.test_cli_run import QUICK, result_files, run

STARTS = {"fork": "hwbench-worker", "spawn": "MainProcess"}  # -> the worker's process name


def test_only_hwbench_variables_may_differ_from_the_fork_servers():
    assert _same_but_runtime({"PATH": "/b", "HWBENCH_X": "1"}, {"PATH": "/b", "HWBENCH_Y": "2"})
    assert not _same_but_runtime({"PATH": "/bin"}, {"PATH": "/usr/bin"})
    assert not _same_but_runtime({"PATH": "/bin"}, {"PATH": "/bin", "TASK_QUEUE_ENABLE": "2"})


@pytest.mark.parametrize("start", list(STARTS))
def test_worker_environment_stderr_timeout_and_leftovers(start, tmp_path, plugin_env):
    name_file, orphan_file = tmp_path / "name", tmp_path / "orphan.pid"
    env = {
        **plugin_env,
        "HWBENCH_TEST_EXPECT": "this case",
        "HWBENCH_TEST_WORKER_NAME": str(name_file),
        "HWBENCH_TEST_ORPHAN_PID": str(orphan_file),
        **({"HWBENCH_WORKER_START": "spawn"} if start == "spawn" else {}),
    }
    targets = ["test-env@cpu", "test-orphan@cpu", "test-hang@cpu"]
    proc = run(
        "--workload", "mlp", "--scenario", "latency", "--timeout", "15",
        *[arg for t in targets for arg in ("--target", t)], "--out", str(tmp_path), *QUICK,
        env=env,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    by_engine = {c.key["engine"]: c for c in store.load(result_files(tmp_path)[0])["cases"]}
    assert by_engine["test-env"].status == "ok", by_engine["test-env"]
    assert name_file.read_text() == STARTS[start]
    assert by_engine["test-orphan"].status == "ok"
    assert by_engine["test-hang"].reason == "timed out after 15 s"
    assert_gone(int(orphan_file.read_text()))

    env["HWBENCH_TEST_EXPECT"] = "another case"
    proc = run("--workload", "mlp", "--scenario", "latency", "--target", "test-env@cpu",
               "--out", str(tmp_path / "2"), *QUICK, env=env)  # fmt: skip
    [case] = store.load(result_files(tmp_path / "2")[0])["cases"]
    assert case.reason == "worker exited with code 3: stderr of the worker"


def assert_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} that the worker started is still running")


def test_a_worker_dying_between_passes_fails_only_its_case(tmp_path, plugin_env):
    proc = run(
        "--workload", "mlp", "--scenario", "latency", "--passes", "3",
        "--target", "torch@cpu", "--target", "test-crash-later@cpu", "--out", str(tmp_path),
        *QUICK, env=plugin_env,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    ok, crashed = store.load(result_files(tmp_path)[0])["cases"]
    assert crashed.status == "failed"
    assert crashed.reason.startswith("worker killed by signal 9"), crashed.reason
    assert ok.status == "ok" and len(ok.sampling.pass_starts) == 3


def quick_cpu_case(passes: int):
    from hwbench.config import Suite, Target
    from hwbench.execution.plan import expand
    from hwbench.measure.harness import HarnessConfig

    harness = HarnessConfig(warmup_s=0.0, min_time_s=0.05, time_budget_s=0.3, passes=passes)
    suite = Suite(
        workloads=("mlp",),
        targets=(Target.parse("torch@cpu"),),
        scenarios=("latency",),
        harness=harness,
    )
    [case] = expand(suite)
    return case


@pytest.fixture
def fresh_server(monkeypatch):
    """A fork-server record that has not fixed its environment yet (pytest changes
    PYTEST_CURRENT_TEST between tests, which an earlier test's record would count against)."""

    monkeypatch.setattr(process, "_server", process._ForkServer())


def test_accelerator_cases_fork_from_the_guarded_server_unless_it_touched_them(fresh_server):
    from hwbench.execution.process import _context

    env = dict(os.environ)
    for device in ("cpu", "cuda", "npu"):
        assert _context(env, device, ()).get_start_method() == "forkserver"
    process._server.refuse("npu", "torch_npu.npu._lazy_init() called in the fork server")
    assert _context(env, "npu", ()).get_start_method() == "spawn"
    assert _context(env, "cuda", ()).get_start_method() == "forkserver"


def worker_records(tmp: str, preload: tuple[str, ...] = ()) -> list[dict]:
    """A CPU case through each way a worker starts, all on one protocol: forked as an
    accelerator worker is (saying first whether it can use its device) in one go and in two
    slices, spawned, and as a `python -m` subprocess (as a case whose environment differs, or
    an A/B arm). Run in a process of its own (the tests below): multiprocessing's spawn leaves
    a resource-tracker process beside its caller. `preload`: what the fork server imports."""
    from hwbench.execution.process import WorkerProcess

    records = []
    env = dict(os.environ)
    starts = ((1, "cuda", None, "fork"), (2, "cuda", None, "fork"), (2, "cpu", None, "spawn"),
              (2, "cpu", sys.executable, "fork"))  # fmt: skip
    for index, (passes, device, python, start) in enumerate(starts):
        os.environ["HWBENCH_WORKER_START"] = start
        case = quick_cpu_case(passes=passes)
        worker = WorkerProcess(Path(tmp, f"err-{index}"), env, preload, device, python)
        try:
            loaded = worker.request({"op": "load", "case": case.to_json()}, 120)
            assert loaded["ok"] and loaded["timed"], loaded
            while not worker.request({"op": "slice"}, 120)["done"]:
                pass
            records.append(worker.request({"op": "finish"}, 120)["record"])
        finally:
            worker.close(grace_s=5)
    return records


def run_worker_records(tmp_path: Path, *preload: str) -> tuple[list[dict], str]:
    script = (
        "import json, sys\n"
        "from hwbench.execution import process\n"
        "from tests.e2e.test_worker_start import worker_records\n"
        "records = worker_records(sys.argv[1], tuple(sys.argv[2:]))\n"
        "print(json.dumps([records, process._server.unusable]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), *preload],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        env=plugin_environment(),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_every_worker_start_speaks_the_one_protocol(tmp_path):
    (records, unusable), _ = run_worker_records(tmp_path)
    one_go, sliced, spawned, subprocess_worker = records
    assert unusable == {}  # the accelerator start path forked
    assert one_go["status"] == "ok" and one_go["sampling"]["pass_starts"] == [0], one_go
    for record in (sliced, spawned, subprocess_worker):
        assert record["status"] == "ok" and len(record["sampling"]["pass_starts"]) == 2, record


def test_a_fork_server_that_touched_cuda_gets_cuda_workers_spawned(tmp_path):
    """An import in the server reached CUDA's runtime: the forked accelerator worker says so,
    and it and every later worker for that device are spawned, with one note naming the call."""
    (records, unusable), stderr = run_worker_records(tmp_path, "hwbench_test_touch_cuda")
    assert all(record["status"] == "ok" for record in records)
    assert set(unusable) == {"cuda"}
    assert "torch.cuda._lazy_init() called in the fork server" in unusable["cuda"]
    assert "hwbench_test_touch_cuda" in unusable["cuda"]
    assert stderr.count("hwbench: note: cuda workers are spawned, not forked") == 1


@pytest.mark.slow
def test_the_start_cost_benchmark_splits_every_start_into_its_phases():
    """benchmarks/worker_start_cost.py, as its committed table was made (one worker a start)."""
    root = Path(__file__).parents[2]
    proc = subprocess.run(
        [sys.executable, "benchmarks/worker_start_cost.py", "--repeats", "1"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    phases_table, case_table = proc.stdout.strip().split("\n\n")
    header, *rows = phases_table.splitlines()[1:]
    assert header.split() == ["how", "start", "torch", "hwbench", "runtime", "model", "total"]
    table = {" ".join(row.split()[:-6]): [float(v) for v in row.split()[-6:]] for row in rows}
    assert set(table) == {"fork server", "spawn", "subprocess"}
    for phases in table.values():
        assert abs(sum(phases[:-1]) - phases[-1]) <= 5  # ms, rounding
    starts = dict(line.split() for line in case_table.splitlines()[2:])
    assert set(starts) == {"fork", "spawn"} and all(float(s) > 0 for s in starts.values())
