"""`hwbench run --ray` on a three-node Ray cluster on 127.0.0.1 (conftest.py): cases placed by
resource and pin, one file per node, one at a time per node, a hwbench version mismatch, a
Ctrl-C, and a node removed mid-run. The tests share the cluster and run in this order; the
last removes a node."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from hwbench.results import store
from tests.conftest import hwbench_cmd

pytestmark = pytest.mark.ray
QUICK = ("--workload", "mlp", "--time-budget", "0.2", "--passes", "1", "--scenario", "latency")
RUN_TIMEOUT_S = 240
# Each run starts in tmp_path: Ray puts the driver's sys.path[0] (for `python -m`, its working
# directory) first on every worker's path, where /work/main's hwbench would hide a node's own.


def fleet_cmd(address: str, out: Path, *args: str) -> list[str]:
    return hwbench_cmd("run", "--ray", address, "--out", str(out), *QUICK, *args)


def machine_files(out: Path) -> dict[str, dict]:
    """Each machine's result document, by folder (the manifest's folder left out)."""
    return {p.parent.name: store.load(p) for p in out.glob("*/*.json") if p.parent.name != "fleet"}


def manifest(out: Path) -> dict:
    (path,) = out.glob("fleet/*.json")
    return json.loads(path.read_text())


def keys_in(paths: list[Path]) -> list[str]:
    """The keys (as JSON) of the cases saved so far in the files found (none before one exists)."""
    cases = (case for p in paths for case in json.loads(p.read_text())["cases"])
    return [json.dumps(case["key"], sort_keys=True) for case in cases]


def wait_for_a_case(out: Path, machine: str, process: subprocess.Popen) -> list[str]:
    """Wait until `machine`'s file holds a finished case; the keys of those it holds then."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        done = keys_in(list(out.glob(f"{machine}/*.json")))
        if done:
            return done
        time.sleep(0.1)
    raise AssertionError(f"no case finished on {machine}: {process.communicate()}")


def test_cases_go_where_their_resources_are_one_file_per_node(cluster, tmp_path: Path) -> None:
    ray_cluster, nodes = cluster
    out = tmp_path / "results"
    targets = ("torch@cpu:resource=fakegpu", "torch@cpu:resource=fakenpu", "torch@cpu:node=box-b")
    result = subprocess.run(
        fleet_cmd(ray_cluster.address, out, "--scenario", "throughput", "--batch", "2",
                  *(f"--target={t}" for t in (*targets, "torch@npu")),
                  "--report", str(tmp_path / "fleet.html")),
        capture_output=True, text=True, cwd=tmp_path, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    documents = machine_files(out)
    assert set(documents) == {"head", "box-a", "box-b"}  # one file per node, by node name
    where = {"fakegpu": "head", "fakenpu": "box-a", "node=box-b": "box-b"}
    for machine, document in documents.items():
        assert [c.status for c in document["cases"]] == ["ok", "ok"]  # latency b1, throughput b2
        assert document["environment"]["hwbench"] == "0.1.0"
        for case in document["cases"]:
            fleet = case.details["fleet"]
            assert fleet["node_id"] == nodes[machine].node_id  # where Ray ran it
            pinned_by = next(k for k in where if k.split("=")[-1] in fleet["target"])
            assert where[pinned_by] == machine
    # one case at a time on each node, nodes in parallel (from the nodes' own timestamps)
    spans = {m: sorted((c.details["fleet"]["started"], c.details["fleet"]["ended"])
                       for c in d["cases"]) for m, d in documents.items()}  # fmt: skip
    for machine, (first, second) in spans.items():
        assert first[1] <= second[0], f"{machine} ran two cases at once: {first}, {second}"
    flat = [(m, s) for m, pair in spans.items() for s in pair]
    assert any(a[0] != b[0] and a[1][0] < b[1][1] and b[1][0] < a[1][1]
               for a in flat for b in flat), f"no two nodes ran at once: {spans}"  # fmt: skip
    fleet_run = manifest(out)
    assert [c["reason"] for c in fleet_run["unplaced"]] == ["no node has resource NPU"] * 2
    assert "skipped (no node): mlp/tiny latency b1 torch@npu: no node has resource NPU" in (
        result.stdout
    )
    assert "every machine by target" in result.stdout  # the one comparison table
    assert all(f"{m}: torch@cpu" in result.stdout for m in documents)
    report = (tmp_path / "fleet.html").read_text()
    assert all(machine in report for machine in documents)


def test_a_node_with_another_hwbench_is_named(cluster, tmp_path: Path) -> None:
    ray_cluster, _ = cluster
    fake = tmp_path / "old" / "hwbench"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('__version__ = "0.0.9"\n')
    old = ray_cluster.add_node(
        node_ip_address="127.0.0.1", num_cpus=1, object_store_memory=80 * 1024**2,
        node_name="old-box", env_vars={"PYTHONPATH": str(fake.parent)},
    )  # fmt: skip
    try:
        result = subprocess.run(
            fleet_cmd(ray_cluster.address, tmp_path / "out", "--target", "torch@cpu"),
            capture_output=True, text=True, cwd=tmp_path, timeout=RUN_TIMEOUT_S,
        )  # fmt: skip
    finally:
        ray_cluster.remove_node(old)
    assert result.returncode == 2, result.stderr
    assert "node old-box" in result.stderr and "has hwbench 0.0.9" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "out").glob("*/*.json"))  # nothing ran


def test_ctrl_c_cancels_the_tasks_and_keeps_what_finished(cluster, tmp_path: Path) -> None:
    ray_cluster, _ = cluster
    out = tmp_path / "results"
    process = subprocess.Popen(
        fleet_cmd(ray_cluster.address, out, "--scenario", "throughput", "--batch", "1,2,4",
                  "--target", "torch@cpu:node=box-b"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for_a_case(out, "box-b", process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted; finished cases are saved" in stderr
    (document,) = machine_files(out).values()
    assert 1 <= len(document["cases"]) < 4  # of latency b1 and throughput b1, b2, b4
    assert all(case.status == "ok" for case in document["cases"])
    assert manifest(out)["interrupted"] is True


def test_a_node_lost_mid_run_fails_its_unfinished_cases_only(cluster, tmp_path: Path) -> None:
    ray_cluster, nodes = cluster
    out = tmp_path / "results"
    process = subprocess.Popen(
        fleet_cmd(ray_cluster.address, out, "--scenario", "throughput", "--batch", "1,2",
                  "--target", "torch@cpu:node=box-a", "--target", "torch@cpu:node=box-b"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        finished = wait_for_a_case(out, "box-a", process)
        ray_cluster.remove_node(nodes["box-a"], allow_graceful=False)
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        process.kill()
    assert process.returncode == 1, stderr  # a case failed
    documents = machine_files(out)
    lost, kept = documents["box-a"]["cases"], documents["box-b"]["cases"]
    assert [c.status for c in kept] == ["ok"] * 3  # the other node's run went on
    assert len(lost) == 3
    status = {json.dumps(c.key, sort_keys=True): c.status for c in lost}
    assert [status[key] for key in finished] == ["ok"] * len(finished)  # finished: never lost
    failed = [c for c in lost if c.status == "failed"]
    assert failed and all(c.reason.startswith("node lost (box-a") for c in failed), lost
    assert "box-a" in manifest(out)["lost_nodes"][0]
    assert "node lost (box-a" in stdout
    assert os.path.exists(out / "fleet")
