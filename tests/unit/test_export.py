"""pytest-benchmark's JSON: the same statistics as pytest-benchmark, and a lossless round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hwbench.errors import UsageError
from hwbench.reporting.export import (
    benchmark_stats,
    from_pytest_benchmark,
    is_pytest_benchmark,
    load_any,
    to_pytest_benchmark,
)
from hwbench.results import store
from tests.records import record


def result_document() -> dict:
    doc = store.new_results("t", "m", {"host": "h", "cpu": "c", "git": {"commit": "abc"}}, {})
    samples = list(1e6 * np.random.default_rng(0).lognormal(0, 0.05, 51))
    doc["cases"] = [
        record(samples_ns=samples, sampling={"loops": 7}, metrics={"latency_ms": {"p50": 1.0}}),
        record({"batch": 8}, status="failed", reason="x"),
    ]
    return doc


@pytest.mark.parametrize("n", [1, 2, 5, 7, 9, 10, 11, 64])
def test_stats_match_pytest_benchmark(n: int) -> None:
    stats_module = pytest.importorskip("pytest_benchmark.stats")
    data = list(np.random.default_rng(n).lognormal(0, 0.3, n))
    expected = stats_module.Stats()
    for value in data:
        expected.update(value)
    ours = benchmark_stats(data)
    for field in stats_module.Stats.fields:
        assert ours[field] == pytest.approx(getattr(expected, field)), field


def test_round_trip_keeps_keys_and_samples() -> None:
    doc = result_document()
    exported = to_pytest_benchmark(doc)
    assert is_pytest_benchmark(exported)
    [bench] = exported["benchmarks"]  # only ok cases are exported
    assert bench["stats"]["iterations"] == 7 and bench["stats"]["rounds"] == 51
    back = from_pytest_benchmark(json.loads(json.dumps(exported)), "x.json")
    store.validate(store.as_json(back), "x.json")
    [case] = back["cases"]
    assert case.key == doc["cases"][0].key
    assert case.samples_ns == pytest.approx(doc["cases"][0].samples_ns)


def test_foreign_pytest_benchmark_file_gets_a_key_from_its_fullname() -> None:
    data = {
        "machine_info": {"node": "n"},
        "benchmarks": [
            {"fullname": "t.py::test_a", "stats": {"data": [0.001, 0.002], "iterations": 1}}
        ],
    }
    [case] = from_pytest_benchmark(data, "f.json")["cases"]
    assert case.key["fullname"] == "t.py::test_a" and case.samples_ns == (1e6, 2e6)


def test_pytest_benchmark_file_without_raw_data_is_refused() -> None:
    data = {"machine_info": {}, "benchmarks": [{"fullname": "t::a", "stats": {"mean": 1.0}}]}
    with pytest.raises(UsageError, match=r"no raw data.*--benchmark-save-data"):
        from_pytest_benchmark(data, "f.json")


def test_load_any_tells_formats_apart(tmp_path: Path) -> None:
    doc = result_document()
    native, foreign = tmp_path / "a.json", tmp_path / "b.json"
    store.save(doc, native)
    store.save(to_pytest_benchmark(doc), foreign)
    assert load_any(native)["schema"] == store.SCHEMA
    assert load_any(foreign)["suite"] == "pytest-benchmark"
    (tmp_path / "c.json").write_text('{"cases": [')
    with pytest.raises(UsageError, match="not a hwbench result file"):
        load_any(tmp_path / "c.json")


def foreign(**bench: object) -> dict:
    """A pytest-benchmark document of one benchmark: test_a's fields updated by `bench`."""
    test_a = {"fullname": "t.py::test_a", "stats": {"data": [0.001, 0.002], "iterations": 1}}
    return {"machine_info": {"node": "n"}, "benchmarks": [{**test_a, **bench}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"machine_info": {}, "benchmarks": 5}, "f.json: benchmarks is 5, not a list"),
        ({"machine_info": [], "benchmarks": []}, "machine_info is a list, not an object"),
        ({"machine_info": {}, "benchmarks": ["t::a"]}, r"benchmarks\[0\] is the text 't::a'"),
        (foreign(fullname=None), r"benchmarks\[0\].fullname is null, not text"),
        ({**foreign(), "benchmarks": [{"stats": {"data": [1.0]}}]}, "fullname is missing"),
        (foreign(stats={"data": ["0.001"]}), r"stats.data has a time .* the text '0.001'"),
        (foreign(stats={"data": [0.001, 0]}), r"stats.data has a time .*seconds: 0$"),
        (foreign(stats={"data": [-1e-3]}), r"stats.data has a time .*seconds: -0.001"),
        (foreign(stats={"data": [float("nan")]}), r"stats.data has a time .*seconds: NaN"),
        (foreign(stats={"data": [float("inf")]}), r"stats.data has a time .*: Infinity"),
        (foreign(stats={"data": "fast"}), r"stats.data is the text 'fast', not a list"),
        (foreign(stats=[0.001]), r"benchmarks\[0\].stats is a list, not an object"),
        (foreign(stats={"data": [1e-3], "iterations": 0}), "iterations is 0, not at least 1"),
        (foreign(extra_info={"hwbench_key": "mlp"}), "extra_info.hwbench_key is the text"),
    ],
)
def test_a_malformed_pytest_benchmark_file_is_refused_naming_the_field(
    data: dict, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        from_pytest_benchmark(data, "f.json")


def test_pytest_benchmark_machine_info_says_where_it_ran() -> None:
    data = foreign()
    data["machine_info"] = {
        "node": "ci-7",
        "processor": "x86_64",  # what platform.processor() says on Linux
        "cpu": {"brand_raw": "AMD EPYC 7B13", "count": 2},
    }
    document = from_pytest_benchmark(data, "f.json")
    assert document["machine"] == "ci-7"
    assert document["environment"]["cpu"] == "AMD EPYC 7B13"
    assert document["environment"]["logical_cores"] == 2
    exported = to_pytest_benchmark(result_document())  # hwbench's own: its machine name back
    assert from_pytest_benchmark(exported, "x.json")["machine"] == "m"
