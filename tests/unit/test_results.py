import json

import pytest

from hwbench import results
from hwbench.env import fingerprint, machine_name
from hwbench.errors import UsageError


def make_document():
    document = results.new_results("unit", "box", {"host": "box"}, {})
    document["cases"].append({"key": {"workload": "mlp"}, "status": "ok", "metrics": {}})
    return document


def test_save_then_load_round_trips(tmp_path):
    path = tmp_path / "box" / "r.json"
    results.save(make_document(), path)
    assert results.load(path)["cases"][0]["status"] == "ok"
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temp file left behind


def test_save_is_atomic_when_serialization_fails(tmp_path):
    path = tmp_path / "r.json"
    results.save(make_document(), path)
    broken = make_document()
    broken["cases"][0]["metrics"] = {"bad": object()}  # not JSON-serializable
    with pytest.raises(TypeError):
        results.save(broken, path)
    assert results.load(path)["cases"][0]["metrics"] == {}  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


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
        results.load(path)


def test_load_refuses_a_truncated_file(tmp_path):
    path = tmp_path / "r.json"
    results.save(make_document(), path)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(UsageError, match="not JSON"):
        results.load(path)


def test_load_refuses_a_case_with_an_unknown_status(tmp_path):
    document = make_document()
    document["cases"][0]["status"] = "great"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match="unknown status"):
        results.load(path)


def test_fingerprint_names_the_machine_and_versions():
    env = fingerprint()
    assert env["cpu"] and env["logical_cores"] >= 1 and env["memory_bytes"] > 0
    assert env["packages"]["torch"]
    assert len(env["load_average"]) == 3
    assert set(env["git"]) == {"commit", "dirty"}


def test_machine_name_is_folder_safe():
    assert machine_name("my box/1") == "my-box-1"
