import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from hwbench.errors import UsageError
from hwbench.machine import machine_name
from hwbench.results import store
from hwbench.results.env import fingerprint
from hwbench.results.record import CaseRecord, Sampling

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "schema3-before-caserecord.json"
COMMITTED = sorted(p for p in (ROOT / "results").glob("*/*.json") if "peaks-" not in p.name)


def make_document():
    document = store.new_results("unit", "box", {"host": "box"}, {})
    document["cases"].append(CaseRecord(key={"workload": "mlp"}, status="ok", metrics={}))
    return document


def test_save_then_load_round_trips(tmp_path):
    path = tmp_path / "box" / "r.json"
    store.save(make_document(), path)
    assert store.load(path)["cases"] == make_document()["cases"]
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temp file left behind


def test_save_is_atomic_when_serialization_fails(tmp_path):
    path = tmp_path / "r.json"
    store.save(make_document(), path)
    broken = make_document()
    broken["cases"][0] = replace(broken["cases"][0], metrics={"bad": object()})  # not JSON
    with pytest.raises(TypeError):
        store.save(broken, path)
    assert store.load(path)["cases"][0].metrics == {}  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_unknown_measurements_are_written_as_null_and_read_back_as_infinities(tmp_path):
    latency = {"p50": 1.0, "median_ci_low": -math.inf, "median_ci_high": math.inf}
    case = CaseRecord(
        key={"workload": "mlp"}, status="ok", metrics={"latency_ms": latency},
        samples_ns=(1e6,), sampling=Sampling(rel_ci_halfwidth=math.inf),
    )  # fmt: skip
    path = tmp_path / "r.json"
    store.save({**make_document(), "cases": [case]}, path)
    assert "Infinity" not in path.read_text()
    written = json.loads(path.read_text())["cases"][0]
    assert written["sampling"]["rel_ci_halfwidth"] is None
    assert written["metrics"]["latency_ms"]["median_ci_high"] is None
    assert store.load(path)["cases"] == [case]


def test_an_infinite_setting_is_written_as_text():
    document = make_document()
    document["config"] = {"suite": {"burstiness": math.inf}}
    document["cases"][0] = replace(document["cases"][0], key={"burstiness": math.inf})
    written = json.loads(store.dumps(document))
    assert written["config"]["suite"]["burstiness"] == "inf"
    assert written["cases"][0]["key"]["burstiness"] == "inf"


def test_any_other_non_finite_number_fails_the_save_and_names_it(tmp_path):
    document = make_document()
    document["cases"][0] = replace(document["cases"][0], metrics={"x": [1.0, math.nan]})
    where = r"document\['cases'\]\[0\]\['metrics'\]\['x'\]\[1\]"
    with pytest.raises(ValueError, match=where + " is not finite"):
        store.save(document, tmp_path / "r.json")
    assert not list(tmp_path.iterdir())


def test_a_file_written_with_infinity_still_loads(tmp_path):
    """Files hwbench wrote before its JSON was strict hold Infinity; Python reads them."""
    document = store.as_json(make_document())
    document["cases"][0]["sampling"] = {"rel_ci_halfwidth": math.inf}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document))
    assert store.load(path)["cases"][0].sampling.rel_ci_halfwidth == math.inf


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a hwbench result file"),
        ('{"cases": []}', "not a hwbench result file"),
        ('{"schema": "hwbench-results", "schema_version": 99}', "schema version 99"),
        ('{"schema": "hwbench-results", "schema_version": 1}', "is missing"),
    ],
)
def test_load_refuses_files_that_are_not_results(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        store.load(path)


def test_load_refuses_a_truncated_file(tmp_path):
    path = tmp_path / "r.json"
    store.save(make_document(), path)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(UsageError, match="not JSON"):
        store.load(path)


def test_load_refuses_a_case_with_an_unknown_status(tmp_path):
    document = store.as_json(make_document())
    document["cases"][0]["status"] = "great"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match="unknown status"):
        store.load(path)


def test_fingerprint_names_the_machine_and_versions():
    env = fingerprint()
    assert env["cpu"] and env["logical_cores"] >= 1 and env["memory_bytes"] > 0
    assert env["packages"]["torch"]
    assert len(env["load_average"]) == 3
    assert set(env["git"]) == {"commit", "dirty"}


def test_machine_name_is_folder_safe():
    assert machine_name("my box/1") == "my-box-1"


def test_a_schema_3_file_is_migrated_on_load():
    """A file written before the CaseRecord (schema 3): its sampling facts and timings land in
    their blocks, and nothing else changes."""
    raw = json.loads(FIXTURE.read_text())
    assert raw["schema_version"] == 3
    document = store.load(FIXTURE)
    assert document["schema_version"] == store.SCHEMA_VERSION and document["migrated_from"] == 3
    for before, after in zip(raw["cases"], document["cases"], strict=True):
        assert after.key == before["key"] and after.status == before["status"]
        if before["status"] != "ok":
            assert after.reason == before["reason"] and not after.samples_ns
            continue
        assert after.samples_ns == tuple(before["samples_ns"])
        assert after.metrics == before["metrics"] and after.parity == before["parity"]
        assert after.sampling.loops == before["loops"]
        assert after.sampling.stop_reason == before["stop_reason"]
        assert after.sampling.pass_starts == tuple(before["pass_starts"])
        assert after.timings.prepare_s == before["prepare_s"]
        assert after.timings.first_run_s == before["first_run_s"]
        assert after.details == {}  # every field found its place


def test_a_record_round_trips_through_the_file(tmp_path):
    document = store.load(FIXTURE)
    path = tmp_path / "again.json"
    store.save(document, path)
    assert store.load(path)["cases"] == document["cases"]
    assert json.loads(path.read_text())["schema_version"] == store.SCHEMA_VERSION


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_committed_result_file_loads(path):
    document = store.load(path)
    assert document["cases"] and all(isinstance(c, CaseRecord) for c in document["cases"])
    timed = [c for c in document["cases"] if c.timed]
    assert all(c.samples_ns and c.metrics["latency_ms"]["p50"] > 0 for c in timed)
