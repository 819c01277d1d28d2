"""The export cache: hits, atomic publication, corrupted entries, keys; and ORT through it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hwbench import export_cache
from hwbench.engines.base import Spec
from hwbench.engines.onnx_export import key_parts
from hwbench.export_cache import cache_root, fetch, verify
from hwbench.workloads import make_workload

PARTS = {"workload": "w", "input_shapes": [[1, 4]]}


def write_model(directory: Path) -> None:
    (directory / "model.onnx").write_bytes(b"graph" * 100)
    (directory / "model.onnx.data").write_bytes(b"weights" * 100)


def test_the_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(tmp_path))
    assert cache_root("onnx") == tmp_path / "onnx"
    monkeypatch.delenv("HWBENCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root("onnx") == tmp_path / "xdg" / "hwbench" / "onnx"


def test_a_miss_builds_once_then_hits(tmp_path):
    builds = []
    first = fetch(tmp_path, PARTS, lambda d: (builds.append(d), write_model(d)))
    second = fetch(tmp_path, PARTS, lambda d: (builds.append(d), write_model(d)))
    assert (first.status, second.status, len(builds)) == ("miss", "hit", 1)
    assert first.directory == second.directory
    manifest = json.loads((first.directory / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.onnx", "model.onnx.data"}
    assert manifest["key"] == PARTS


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    def explode(directory: Path) -> None:
        write_model(directory)
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        fetch(tmp_path, PARTS, explode)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda d: (d / "model.onnx.data").write_bytes(b"x" * 700), "differs from its sha256"),
        (lambda d: (d / "model.onnx").write_bytes(b"graph"), "has 5 bytes"),
        (lambda d: (d / "model.onnx").unlink(), "model.onnx is missing"),
        (lambda d: (d / "manifest.json").write_text("{"), "unreadable manifest"),
    ],
)
def test_a_damaged_entry_is_rebuilt_and_the_record_says_why(tmp_path, damage, problem):
    entry = fetch(tmp_path, PARTS, write_model).directory
    damage(entry)
    assert problem in verify(entry)
    again = fetch(tmp_path, PARTS, write_model)
    assert again.status.startswith("rebuilt") and problem in again.status
    assert verify(entry) is None


def test_an_entry_published_by_another_process_first_is_kept(tmp_path):
    entry = tmp_path / export_cache.cache_key(PARTS)

    def race(directory: Path) -> None:
        write_model(directory)
        other = export_cache.build_entry(tmp_path, PARTS, write_model)
        other.rename(entry)  # the other process wins the rename

    assert fetch(tmp_path, PARTS, race).directory == entry
    assert verify(entry) is None
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]  # no temporary left


def test_the_key_changes_with_shapes_dtype_and_seed():
    mlp = make_workload("mlp", "tiny")
    base = key_parts(mlp, "fp32", mlp.inputs(1))
    assert key_parts(mlp, "fp32", mlp.inputs(1, seed=5)) == base  # input values do not matter
    assert key_parts(mlp, "fp32", mlp.inputs(2)) != base
    assert key_parts(mlp, "fp16", mlp.inputs(1)) != base
    assert key_parts(make_workload("mlp", "tiny", seed=1), "fp32", mlp.inputs(1)) != base


@pytest.fixture
def onnx_cache(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(tmp_path))
    return tmp_path


def prepare_llama() -> tuple[float, dict]:
    from hwbench.backends.cpu import CPU
    from hwbench.engines.onnxruntime_engine import OnnxRuntime

    workload = make_workload("llama", "tiny")
    inputs = workload.inputs(1)
    start = time.perf_counter()
    session = OnnxRuntime().prepare(Spec(workload, CPU()), example_inputs=inputs)
    elapsed = time.perf_counter() - start
    session.run(session.place(inputs))
    return elapsed, session.details()


def test_a_second_prepare_uses_the_cached_onnx_file(onnx_cache):
    first_s, first = prepare_llama()
    onnx = Path(first["onnx_path"])
    mtimes = {p.name: p.stat().st_mtime_ns for p in onnx.parent.iterdir()}
    second_s, second = prepare_llama()
    assert (first["cache"], second["cache"]) == ("miss", "hit")
    assert second["onnx_path"] == first["onnx_path"]
    assert {p.name: p.stat().st_mtime_ns for p in onnx.parent.iterdir()} == mtimes
    assert second_s < first_s / 3  # measured 45-210x (benchmarks/export_cache.txt)


def test_a_corrupted_onnx_file_is_exported_again(onnx_cache):
    _, first = prepare_llama()
    onnx = Path(first["onnx_path"])
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    onnx.write_bytes(bytes(data))
    _, second = prepare_llama()
    assert second["cache"] == "rebuilt (model.onnx differs from its sha256 in the manifest)"
    assert second["export_s"] > 0
