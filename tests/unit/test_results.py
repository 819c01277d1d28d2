import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from hwbench.errors import UsageError
from hwbench.machine import machine_name
from hwbench.results import store
from hwbench.results.env import fingerprint
from hwbench.results.record import NOT_TIMED, CaseRecord, Sampling
from tests.records import KEY

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "schema3-before-caserecord.json"
COMMITTED = sorted(p for p in (ROOT / "results").glob("*/*.json") if "peaks-" not in p.name)


TIMED = {"metrics": {"latency_ms": {"p50": 1.0}}, "samples_ns": (1e6,)}


def make_document():
    document = store.new_results("unit", "box", {"host": "box"}, {})
    document["cases"].append(CaseRecord(key=KEY, status="ok", **TIMED))
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
    assert store.load(path)["cases"][0].metrics == TIMED["metrics"]  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_unknown_measurements_are_written_as_null_and_read_back_as_infinities(tmp_path):
    latency = {"p50": 1.0, "median_ci_low": -math.inf, "median_ci_high": math.inf}
    case = CaseRecord(
        key=KEY, status="ok", metrics={"latency_ms": latency},
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
    document["cases"][0] = replace(document["cases"][0], key={**KEY, "burstiness": math.inf})
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


def with_case(**fields):
    """A valid document in the file's form with its one case's fields replaced (None: removed)."""
    document = store.as_json(make_document())
    case = {**document["cases"][0], **fields}
    document["cases"][0] = {k: v for k, v in case.items() if v is not None}
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cases": 5}, "r.json: cases is 5, not a list"),
        ({"cases": ["mlp"]}, r"cases\[0\] is the text 'mlp', not an object"),
        ({"schema_version": "3"}, "schema_version is the text '3', not an integer$"),
        ({"schema_version": True}, "schema_version is true, not an integer"),
        ({"schema_version": 0}, "schema_version is 0; versions start at 1"),
        ({"environment": "box"}, "environment is the text 'box', not an object"),
        ({"devices": []}, "devices is a list, not an object"),
        ({"devices": {"cpu": "yes"}}, "devices.cpu is the text 'yes', not an object"),
        ({"config": 1}, "config is 1, not an object"),
        ({"created": 20261203}, "created is 20261203, not text"),
        (with_case(key="mlp/tiny"), r"cases\[0\].key is the text 'mlp/tiny', not an object"),
        (with_case(key=None), r"cases\[0\] lacks key"),
        (with_case(key={"workload": "mlp"}), r"cases\[0\].key lacks engine, device, scenario"),
        (with_case(key={k: v for k, v in KEY.items() if k != "size"}), r"\.key lacks size"),
        (with_case(metrics=None), r"cases\[0\] is ok but has no metrics"),
        (with_case(metrics=[1.0]), r"cases\[0\].metrics is a list, not an object"),
        (with_case(metrics={"throughput": 1}), "metrics.latency_ms is missing, not an object"),
        (with_case(metrics={"latency_ms": {"p50": 0}}), "latency_ms.p50 is 0, not a positive"),
        (with_case(samples_ns=None), r"cases\[0\].samples_ns is empty"),
        (with_case(samples_ns=[]), r"cases\[0\].samples_ns is empty"),
        (with_case(samples_ns=5), r"cases\[0\].samples_ns has a sample .* time: 5"),
        (with_case(reason=3), r"cases\[0\].reason is 3, not text"),
        (with_case(parity="passed"), r"cases\[0\].parity is the text 'passed', not an object"),
        (with_case(sampling={"loops": 1, "speed": 2}), "sampling has unknown field 'speed'"),
        (with_case(sampling={"pass_starts": 0}), "sampling.pass_starts is 0, not a list"),
        (with_case(timings=[0.1]), "timings is a list, not an object"),
    ],
)
def test_load_refuses_a_malformed_document_naming_the_field(tmp_path, change, message):
    document = {**store.as_json(make_document()), **change}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match=message) as refused:
        store.load(path)
    assert "upgrade" not in str(refused.value) and "\n" not in str(refused.value)


def test_an_ok_case_without_a_speed_loads_only_when_it_was_not_timed(tmp_path):
    """A --check-only case: ok, its parity checked, nothing timed (generate and serve cases keep
    samples as step cases do: tests/unit/test_schema.py loads one of each)."""
    path = tmp_path / "r.json"
    checked = with_case(metrics=None, samples_ns=None, reason=NOT_TIMED, sampling=None)
    path.write_text(json.dumps(checked))
    assert not store.load(path)["cases"][0].timed


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


@pytest.mark.parametrize("name", ["..", ".", "my box/1", "../up", ""])
def test_a_machine_name_that_is_not_one_folder_is_refused(name):
    with pytest.raises(UsageError, match="not a folder name"):
        machine_name(name)


def test_the_host_name_is_made_folder_safe(monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "my box/1")
    assert machine_name() == "my-box-1"
    monkeypatch.setattr("socket.gethostname", lambda: "..")
    assert machine_name() == "unknown"


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
