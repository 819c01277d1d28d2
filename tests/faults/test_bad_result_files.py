"""Malformed result files given to every reader (compare, gate, report, export), in process:
each is refused with exit 2 and one line naming the field, never a traceback or a verdict."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hwbench.cli import main
from hwbench.reporting.export import to_pytest_benchmark
from hwbench.results import store
from tests.records import record

Change = Callable[[dict[str, Any]], None]  # edits a file's JSON in place


def result() -> dict[str, Any]:
    """A valid result document in the file's form: two timed cases."""
    document = store.new_results("faults", "m", {"host": "h", "cpu": "c"}, {})
    for batch in (1, 8):
        samples = list(1e6 * np.random.default_rng(batch).lognormal(0, 0.02, 30))
        latency = {"p50": float(np.median(samples)) / 1e6}
        case = record({"batch": batch}, samples_ns=samples, metrics={"latency_ms": latency})
        document["cases"].append(case)
    return store.as_json(document)


def case_field(name: str, value: Any) -> Change:
    """The first case's field `name` set to `value` (None: removed)."""

    def change(data: dict[str, Any]) -> None:
        data["cases"][0][name] = value
        if value is None:
            del data["cases"][0][name]

    return change


def field(name: str, value: Any) -> Change:
    return lambda data: data.update({name: value})


def bench_field(name: str, value: Any) -> Change:
    """The first benchmark's field `name` (`stats.data`: its raw data) set to `value`."""

    def change(data: dict[str, Any]) -> None:
        bench = data["benchmarks"][0]
        if name == "stats.data":
            bench["stats"]["data"] = value
        elif value is None:
            del bench[name]
        else:
            bench[name] = value

    return change


DATA = "benchmarks[0].stats.data has a time"
# (fault, file format, change, what the one line says: the field first)
BAD_FILES = [
    ('result file with "cases": 5', "hwbench", field("cases", 5), "cases is 5"),
    ("ok case without metrics", "hwbench", case_field("metrics", None), "has no metrics"),
    ("ok case whose metrics is a list", "hwbench", case_field("metrics", [1]), "].metrics is"),
    ("case whose key is a string", "hwbench", case_field("key", "mlp"), "].key is the text"),
    ('schema_version "3" (text)', "hwbench", field("schema_version", "3"), "schema_version is"),
    ("ok case with no samples", "hwbench", case_field("samples_ns", []), "].samples_ns is empty"),
    ("environment not an object", "hwbench", field("environment", "h"), "environment is"),
    ("devices not an object", "hwbench", field("devices", ["cpu"]), "devices is a list"),
    ("unknown field in sampling", "hwbench", case_field("sampling", {"x": 1}), "].sampling has"),
    ("pytest-benchmark: benchmarks not a list", "pytest", field("benchmarks", {}), "benchmarks is"),
    ("pytest-benchmark: text in stats.data", "pytest", bench_field("stats.data", ["1"]), DATA),
    ("pytest-benchmark: zero in stats.data", "pytest", bench_field("stats.data", [0]), DATA),
    ("pytest-benchmark: NaN in stats.data", "pytest", bench_field("stats.data", [math.nan]), DATA),
    ("pytest-benchmark: no fullname", "pytest", bench_field("fullname", None), "].fullname is"),
]


def readers(bad: Path, good: Path, out: Path, kind: str) -> list[list[str]]:
    """Each reader's command line on the bad file; export reads hwbench results only."""
    commands = [
        ["gate", "--baseline", str(good), "--candidate", str(bad)],
        ["gate", "--baseline", str(bad), "--candidate", str(good)],
        ["compare", str(good), str(bad)],
        ["report", str(bad), "-o", str(out / "report.html")],
    ]
    if kind == "hwbench":
        commands.append(["export", str(bad), "-o", str(out / "export.json")])
    return commands


@pytest.mark.parametrize(
    ("fault", "kind", "change", "named"), BAD_FILES, ids=[row[0] for row in BAD_FILES]
)
def test_every_reader_refuses_a_malformed_file_naming_the_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault_row: Callable[..., None],
    fault: str,
    kind: str,
    change: Change,
    named: str,
) -> None:
    fault_row(f"{fault}, given to gate, compare, report, export", f"nothing; refused: {named}", 2)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(result()))
    data = result() if kind == "hwbench" else to_pytest_benchmark(store.read(result(), "good"))
    change(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))  # NaN as JSON parsers read it
    for command in readers(bad, good, tmp_path, kind):
        code = main(command)
        out, err = capsys.readouterr()
        assert code == 2, (command, out, err)
        assert len(err.strip().splitlines()) == 1, (command, err)
        assert str(bad) in err and named in err, (command, err)
        assert "Traceback" not in out + err
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "export.json").exists()


def test_a_malformed_result_in_a_baseline_folder_is_refused_not_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fault_row: Callable[..., None]
) -> None:
    fault_row("malformed result file in a baseline folder", "nothing; refused: cases", 2)
    folder = tmp_path / "baselines"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(result()))
    (folder / "b.json").write_text(json.dumps({**result(), "cases": 5}))
    (folder / "notes.json").write_text('{"what": "not results"}')  # still left out, with a note
    good = folder / "a.json"
    assert main(["gate", "--baseline", str(folder), "--candidate", str(good)]) == 2
    err = capsys.readouterr().err
    assert "b.json: cases is 5, not a list" in err and len(err.strip().splitlines()) == 1
