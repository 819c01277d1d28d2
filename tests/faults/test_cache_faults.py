"""Faults of the export cache (hwbench.export_cache): corrupt ONNX entries a run meets, a
corrupt checkpoint entry, and processes racing on one cache. A corrupt entry is rebuilt and the
record says why; racers all end with the one entry, whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hwbench.export_cache import fetch, verify
from hwbench.results import store
from tests.conftest import hwbench_cmd

ONNX_RUN = [
    "--workload", "mlp", "--scenario", "throughput", "--target",
    "onnxruntime@cpu", "--time-budget", "0.2", "--passes", "1", "--machine", "box",
]  # fmt: skip
ONNX_ROWS = {  # batch: (the fault as the matrix names it, what the rebuilt entry's status says)
    1: ("corrupt ONNX cache entry (a flipped byte in model.onnx)", "model.onnx differs from its"),
    2: ("ONNX cache manifest of the wrong shape", "unreadable manifest: no files listed"),
}
REBUILT = "the case ran on a rebuilt entry and its record says why"
# Builds an entry once the other racer is building too, so both build at once.
RACER = """
import json, sys, time
from pathlib import Path
from hwbench.export_cache import fetch
root, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
def build(directory):
    (root.parent / me).touch()
    deadline = time.monotonic() + 60
    while not (root.parent / other).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    (directory / "model.onnx").write_bytes(b"graph" * 1000)
entry = fetch(root, {"workload": "w"}, build)
print(json.dumps({"status": entry.status, "directory": str(entry.directory)}))
"""


def onnx_run(out: Path, cache: Path) -> tuple[subprocess.CompletedProcess, list]:
    proc = subprocess.run(
        hwbench_cmd("run", *ONNX_RUN, "--batch", "1,2", "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HWBENCH_CACHE_DIR": str(cache)},
    )
    [path] = (out / "box").glob("*.json")
    return proc, store.load(path)["cases"]


@pytest.fixture(scope="module")
def damaged_onnx(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """A run that met the ONNX entries of batch 1 and 2 damaged as ONNX_ROWS says."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    root = tmp_path_factory.mktemp("onnx-cache")
    filled, cases = onnx_run(root / "first", root / "cache")
    assert filled.returncode == 0, filled.stderr
    entry = {c.key["batch"]: Path(c.session["onnx_path"]).parent for c in cases}
    model = bytearray((entry[1] / "model.onnx").read_bytes())
    model[len(model) // 2] ^= 0xFF
    (entry[1] / "model.onnx").write_bytes(bytes(model))
    (entry[2] / "manifest.json").write_text(json.dumps({"files": []}))
    return onnx_run(root / "second", root / "cache")


@pytest.mark.parametrize("batch", sorted(ONNX_ROWS))
def test_a_corrupt_onnx_entry_is_rebuilt_and_the_case_runs(damaged_onnx, fault_row, batch):
    fault, status = ONNX_ROWS[batch]
    fault_row(fault, REBUILT, 0)
    proc, cases = damaged_onnx
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    [case] = [c for c in cases if c.key["batch"] == batch]
    assert case.status == "ok" and case.parity["passed"]
    assert case.session["cache"].startswith("rebuilt (") and status in case.session["cache"]
    assert verify(Path(case.session["onnx_path"]).parent) is None


def test_a_corrupt_checkpoint_entry_is_rebuilt(tmp_path, monkeypatch, fault_row):
    fault_row(
        "corrupt checkpoint cache entry (model.safetensors cut short)",
        "the entry rebuilt with the workload's weights; its status says why",
        None,
    )
    safetensors = pytest.importorskip("safetensors.torch")
    pytest.importorskip("tokenizers")
    from hwbench.llm.checkpoint import checkpoint_dir
    from hwbench.workloads import make_workload

    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(tmp_path))
    workload = make_workload("llama", "tiny")
    weights = checkpoint_dir(workload).directory / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    again = checkpoint_dir(workload)
    assert again.status.startswith("rebuilt (model.safetensors has 1000 bytes")
    assert again.directory == weights.parent and verify(again.directory) is None
    loaded = safetensors.load_file(weights)
    assert all((loaded[k] == v).all() for k, v in workload.build().state_dict().items())


def test_a_file_where_an_entry_should_be_is_replaced(tmp_path, fault_row):
    fault_row(
        "a file (not a directory) where a cache entry should be",
        "the entry built in its place; nothing else left",
        None,
    )
    root = tmp_path / "cache"
    first = fetch(root, {"workload": "w"}, lambda d: (d / "model.onnx").write_bytes(b"graph"))
    for path in first.directory.iterdir():
        path.unlink()
    first.directory.rmdir()
    first.directory.write_text("not a directory")
    again = fetch(root, {"workload": "w"}, lambda d: (d / "model.onnx").write_bytes(b"graph"))
    assert again.status.startswith("rebuilt (unreadable manifest")
    assert verify(again.directory) is None
    assert [p.name for p in root.iterdir()] == [again.directory.name]


@pytest.mark.parametrize("start", ["absent", "corrupt"])
def test_two_processes_racing_on_one_entry_both_get_it_whole(tmp_path, fault_row, start):
    fault_row(
        f"two processes build one cache entry at once ({start} before)",
        "both use the one entry, whole; no temporary left",
        None,
    )
    root = tmp_path / "cache"
    if start == "corrupt":
        entry = fetch(root, {"workload": "w"}, lambda d: (d / "model.onnx").write_bytes(b"old"))
        (entry.directory / "model.onnx").write_bytes(b"bad")
    script = textwrap.dedent(RACER)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(root), me, other], stdout=subprocess.PIPE, text=True
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    found = [json.loads(r.communicate(timeout=120)[0]) for r in racers]
    assert all(r.returncode == 0 for r in racers)
    assert (tmp_path / "a").exists() and (tmp_path / "b").exists()  # both built
    [directory] = {f["directory"] for f in found}
    statuses = sorted(f["status"] for f in found)
    if start == "absent":
        assert statuses == ["miss", "miss"]
    else:  # the second to look may find the entry (or a file of it) already discarded
        assert statuses[1].startswith("rebuilt (model.onnx")
        assert statuses[0] == "miss" or statuses[0].startswith("rebuilt (model.onnx")
    assert verify(Path(directory)) is None
    assert [p.name for p in root.iterdir()] == [Path(directory).name]


def test_two_runs_racing_on_one_onnx_cache_both_run(tmp_path, fault_row):
    fault_row("two runs export to one ONNX cache at once", "every case of both runs, ok", 0)
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    cache = tmp_path / "cache"
    env = {**os.environ, "HWBENCH_CACHE_DIR": str(cache)}
    runs = [
        subprocess.Popen(
            hwbench_cmd("run", *ONNX_RUN, "--batch", "1", "--out", str(tmp_path / name)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for name in ("one", "two")
    ]  # fmt: skip
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
        assert "Traceback" not in stderr
    for name in ("one", "two"):
        [path] = (tmp_path / name / "box").glob("*.json")
        [case] = store.load(path)["cases"]
        assert case.status == "ok" and case.session["cache"] in ("miss", "hit")
        assert verify(Path(case.session["onnx_path"]).parent) is None
    assert len(list((cache / "onnx").iterdir())) == 1  # one entry, no temporary left
