"""`hwbench gate`, `compare`, `export` and `ab` as a user runs them, on a real result file."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hwbench.results import store
from tests.conftest import hwbench_cmd


def hwbench(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(hwbench_cmd(*args), capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def run_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real result: mlp tiny, latency and a batch-8 throughput case, on torch@cpu."""
    out = tmp_path_factory.mktemp("runs")
    done = hwbench(
        "run",
        "--workload",
        "mlp",
        "--target",
        "torch@cpu",
        "--batch",
        "8",
        "--time-budget",
        "0.5",
        "--out",
        str(out),
        "--machine",
        "m",
    )
    assert done.returncode == 0, done.stderr
    [path] = (out / "m").glob("*.json")
    return steady(path)


def steady(path: Path) -> Path:
    """The real result with each case's samples replaced by a steady series (+-0.4%) around
    its median: under a loaded CI runner the same mlp step swings 40x, and these tests are
    about the commands' verdicts and exit codes, not this runner's noise (the gate's
    statistics under real noise are measured in benchmarks/gate_quality.py)."""
    document = json.loads(path.read_text())  # the file's form, edited as data
    for case in document["cases"]:
        if case.get("samples_ns"):
            median = statistics.median(case["samples_ns"])
            case["samples_ns"] = [median * (1 + 0.002 * (i % 5 - 2)) for i in range(60)]
            case["metrics"]["latency_ms"]["p50"] = median / 1e6
    store.save(document, path)
    return path


def variant(source: Path, target: Path, scale: float = 1.0, **key: object) -> Path:
    """A copy of a result file with its samples scaled and its case keys changed."""
    document = json.loads(source.read_text())  # the file's form, edited as data
    for case in document["cases"]:
        case["key"].update(key)
        case["samples_ns"] = [s * scale for s in case.get("samples_ns", [])]
        if "metrics" in case:
            case["metrics"]["latency_ms"]["p50"] *= scale
    store.save(document, target)
    return target


def test_a_against_a_passes(run_file: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    done = hwbench(
        "gate",
        "--baseline",
        str(run_file),
        "--candidate",
        str(run_file),
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout
    assert summary.read_text().startswith("## hwbench gate: PASS")


def test_a_against_a_slowed_by_half_fails(run_file: Path, tmp_path: Path) -> None:
    slowed = variant(run_file, tmp_path / "slow.json", scale=1.5)
    md, xml = tmp_path / "gate.md", tmp_path / "gate.xml"
    done = hwbench(
        "gate",
        "--baseline",
        str(run_file),
        "--candidate",
        str(slowed),
        "--markdown",
        str(md),
        "--junit",
        str(xml),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert md.read_text().startswith("## hwbench gate: FAIL")
    junit = xml.read_text()
    assert junit.count("<testcase") == 2 and "<failure" in junit  # one test per case
    sped_up = variant(run_file, tmp_path / "fast.json", scale=0.5)
    done = hwbench("gate", "--baseline", str(run_file), "--candidate", str(sped_up))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "not a hwbench result file"),
        ('{"schema": "hwbench-results", "cases": [', "not a hwbench result file"),
        ('{"some": "json"}', "not a hwbench result file"),
        ('{"schema": "hwbench-results", "schema_version": 99}', "schema version 99"),
    ],
)
def test_gate_bad_input_exits_2_with_one_line(
    run_file: Path, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    done = hwbench("gate", "--baseline", str(run_file), "--candidate", str(bad))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("sample", ["NaN", "Infinity", "0", "-5", '"fast"'])
def test_a_candidate_with_impossible_timings_is_an_input_error_not_a_pass(
    run_file: Path, tmp_path: Path, sample: str
) -> None:
    text = run_file.read_text()
    start = text.index('"samples_ns": [') + len('"samples_ns": [')
    bad = tmp_path / "bad.json"
    bad.write_text(text[:start] + sample + ", " + text[start:])  # a JSON parser's NaN, too
    for command in (
        ["gate", "--baseline", str(run_file), "--candidate", str(bad)],
        ["compare", str(run_file), str(bad)],
    ):
        done = hwbench(*command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "not a positive time" in done.stderr and "Traceback" not in done.stderr


def test_every_command_refuses_a_truncated_file(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.json"
    bad.write_text('{"schema": "hwbench-results", "cases": [')
    for command in (
        ["compare", str(bad), str(bad)],
        ["report", str(bad), "-o", str(tmp_path / "r.html")],
        ["export", str(bad), "-o", str(tmp_path / "o.json")],
    ):
        done = hwbench(*command)
        assert done.returncode == 2, (command, done.stderr)
        assert "truncated.json is not a hwbench result file" in done.stderr


def test_compare_across_precisions_says_so(run_file: Path, tmp_path: Path) -> None:
    other = variant(run_file, tmp_path / "bf16.json", scale=0.5, dtype="bf16")
    md = tmp_path / "compare.md"
    done = hwbench("compare", str(run_file), str(other), "--markdown", str(md))
    assert done.returncode == 0, done.stderr
    text = md.read_text()
    assert "torch@cpu:dtype=bf16" in text and "bf16 vs fp32" in text and "x0.500" in text
    assert "baseline: " in text and "across precisions" in text
    by_dtype = hwbench("compare", str(run_file), str(other), "--by", "dtype")
    assert by_dtype.returncode == 0, by_dtype.stderr
    assert "fp32" in by_dtype.stdout and "bf16" in by_dtype.stdout


def test_folders_and_globs_leave_the_peaks_file_out(run_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "machine"
    folder.mkdir()
    variant(run_file, folder / "a.json", engine="test-a")
    variant(run_file, folder / "b.json", scale=1.2, engine="test-b")
    (folder / "peaks-cpu.json").write_text('{"schema": "hwbench-peaks", "schema_version": 1}')
    for given in ([str(folder)], [str(folder / "*.json")]):
        done = hwbench("compare", *given)
        assert done.returncode == 0, done.stderr
        assert "left out" in done.stdout and "hwbench-peaks" in done.stdout
        report = hwbench("report", *given, "-o", str(tmp_path / "r.html"))
        assert report.returncode == 0, report.stderr
    gate = hwbench("gate", "--baseline", str(folder / "a.json"), "--candidate", str(folder))
    assert gate.returncode == 2 and "one result file" in gate.stderr


def test_a_check_only_result_reports_parity_without_a_speed(tmp_path: Path) -> None:
    done = hwbench(
        "run", "--workload", "mlp", "--target", "torch@cpu", "--scenario", "latency",
        "--check-only", "--out", str(tmp_path), "--machine", "m",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [path] = (tmp_path / "m").glob("*.json")
    report = hwbench("report", str(path), "-o", str(tmp_path / "r.html"))
    assert report.returncode == 0, report.stderr
    assert "not timed" in (tmp_path / "r.html").read_text()
    compared = hwbench("compare", str(path), str(path))
    assert compared.returncode == 2 and "nothing to compare" in compared.stderr
    assert "Traceback" not in compared.stderr


def test_compare_side_by_side_with_markdown(run_file: Path, tmp_path: Path) -> None:
    other = variant(run_file, tmp_path / "other.json", engine="test-other")
    md = tmp_path / "compare.md"
    done = hwbench("compare", str(run_file), str(other), "--markdown", str(md))
    assert done.returncode == 0, done.stderr
    assert "test-other@cpu" in md.read_text() and "x1.000" in md.read_text()


def test_export_round_trips_through_pytest_benchmark(run_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed")
    out = tmp_path / "pb.json"
    assert (
        hwbench("export", str(run_file), "--format", "pytest-benchmark", "-o", str(out)).returncode
        == 0
    )
    names = [b["name"] for b in json.loads(out.read_text())["benchmarks"]]
    shown = subprocess.run(
        [sys.executable, "-m", "pytest_benchmark", "compare", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert all(name.split("[")[0] in shown.stdout for name in names)
    done = hwbench("gate", "--baseline", str(out), "--candidate", str(run_file))
    assert done.returncode == 0, done.stdout + done.stderr  # same cases, same samples


def test_ab_two_interpreters_and_bad_arm(tmp_path: Path) -> None:
    done = hwbench(
        "ab",
        "--a",
        "torch@cpu",
        "--b",
        f"python={sys.executable}:torch@cpu",
        "--design",
        "fixed",
        "--blocks",
        "10",
        "--samples",
        "3",
        "--out",
        str(tmp_path),
        "--machine",
        "m",
        "--junit",
        str(tmp_path / "ab.xml"),
        "--threshold",
        "99%",
    )
    # The same case in two interpreters, so the verdict must not be FAIL; with the threshold a
    # 2x slowdown it is PASS on a calm machine, but under bursts that slow one arm's fastest
    # samples 2-20x for seconds (load average 5-9 here) 10 blocks' interval can reach past 2x.
    assert done.returncode == 0, done.stdout + done.stderr
    [path] = (tmp_path / "m").glob("*-ab.json")
    document = store.load(path)
    [case] = document["ab"]["cases"]
    assert case["verdict"] in ("PASS", "INCONCLUSIVE"), document["ab"]
    assert document["ab"]["design"] == "fixed"
    assert [c.key["arm"] for c in document["cases"]] == ["a", "b"]
    assert len(case["log_ratios"]) == case["blocks"] == 10
    assert "10 blocks: a fixed count, one look" in (tmp_path / "ab.xml").read_text()
    bad = hwbench("ab", "--a", "nosuch@cpu", "--b", "torch@cpu", "--out", str(tmp_path))
    assert bad.returncode == 2 and "unknown engine 'nosuch'" in bad.stderr


@pytest.mark.slow
def test_ab_samples_each_case_until_decided_within_the_budget(tmp_path: Path) -> None:
    """Two cases (batch 1 and 2) in the sequential design: each stops at a look that decides
    it, and the verdict, its blocks and why it stopped reach the table, Markdown and JUnit."""
    md, xml = tmp_path / "ab.md", tmp_path / "ab.xml"
    done = hwbench(
        "ab", "--a", "torch@cpu", "--b", "torch@cpu", "--batch", "1", "--batch", "2",
        "--samples", "3", "--threshold", "99%", "--budget", "3m", "--out", str(tmp_path),
        "--machine", "m", "--markdown", str(md), "--junit", str(xml),
    )  # fmt: skip
    # The same target in both arms and a 2x threshold (as above): no case may FAIL, and one
    # that a look decided must PASS (under bursts a case can run out of budget undecided).
    assert done.returncode == 0, done.stdout + done.stderr
    [path] = (tmp_path / "m").glob("*-ab.json")
    summary = store.load(path)["ab"]
    assert [c["case"] for c in summary["cases"]] == ["mlp/tiny latency b1", "mlp/tiny latency b2"]
    for case in summary["cases"]:
        assert case["stopped"] in ("decided", "budget spent", "looks ran out"), case
        assert case["verdict"] == ("PASS" if case["stopped"] == "decided" else "INCONCLUSIVE")
        assert case["blocks"] in case["looks"] and len(case["log_ratios"]) == case["blocks"]
    assert summary["design"] == "sequential" and summary["budget_s"] == 180
    assert len(store.load(path)["cases"]) == 4  # each case's two arms
    shown = r"\d+ blocks, look \d of 9: (?:decided|budget spent|looks ran out)"
    assert len(re.findall(shown, md.read_text())) == 2
    assert len(re.findall(shown, xml.read_text())) >= 2  # system-out (and skipped, if open)
    assert re.search(r"^mlp/tiny latency b2: \d+ blocks, look \d of 9: b/a \S+, ", done.stderr,
                     re.M)  # fmt: skip


def test_a_history_of_baselines_widens_the_interval_by_their_drift(
    run_file: Path, tmp_path: Path
) -> None:
    scales = (0.97, 1.03, 0.98, 1.02, 1.0, 1.0)  # baseline runs drifting +-3%
    history = [variant(run_file, tmp_path / f"b{i}.json", s) for i, s in enumerate(scales)]
    slower = variant(run_file, tmp_path / "slower.json", 1.12)
    alone = hwbench("gate", "--baseline", str(history[-1]), "--candidate", str(slower))
    assert alone.returncode == 1, alone.stdout  # one baseline run: 12% slower fails
    judged = hwbench("gate", "--baseline", *map(str, history), "--candidate", str(slower))
    assert judged.returncode == 0, judged.stdout  # not past the baselines' own drift
    assert "INCONCLUSIVE" in judged.stdout and "6 baseline runs" in judged.stdout

    halved = variant(run_file, tmp_path / "halved.json", 2.0)
    failed = hwbench("gate", "--baseline", *map(str, history), "--candidate", str(halved))
    assert failed.returncode == 1, failed.stdout


def edited(source: Path, target: Path, change: Callable[[dict], None]) -> Path:
    """A copy of a result file with `change` applied to its JSON."""
    document = json.loads(source.read_text())  # the file's form, edited as data
    change(document)
    store.save(document, target)
    return target


def test_cases_the_candidate_lacks_are_missing_and_fail_when_all_are_required(
    run_file: Path, tmp_path: Path
) -> None:
    partial = edited(run_file, tmp_path / "partial.json", lambda d: d["cases"].pop())
    md, xml = tmp_path / "gate.md", tmp_path / "gate.xml"
    shown = hwbench("gate", "--baseline", str(run_file), "--candidate", str(partial),
                    "--markdown", str(md), "--junit", str(xml))  # fmt: skip
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "MISSING not in the candidate" in shown.stdout
    assert "verdict: PASS (1 of 2 cases MISSING)" in shown.stdout
    assert md.read_text().startswith("## hwbench gate: PASS (1 of 2 cases MISSING)")
    assert "1 pass, 0 inconclusive, 0 fail, 1 missing" in md.read_text()
    assert '<skipped message="missing: not in the candidate"' in xml.read_text()
    required = hwbench("gate", "--baseline", str(run_file), "--candidate", str(partial),
                       "--require-all", "--junit", str(xml))  # fmt: skip
    assert required.returncode == 1, required.stdout
    assert "verdict: FAIL (--require-all: 1 of 2 cases MISSING)" in required.stdout
    assert '<failure message="not in the candidate"' in xml.read_text()

    history = [variant(run_file, tmp_path / f"b{i}.json", s) for i, s in enumerate((0.99, 1.01))]
    several = hwbench("gate", "--baseline", *map(str, history), "--candidate", str(partial))
    assert several.returncode == 1, several.stdout  # --require-all is the default here
    off = hwbench("gate", "--baseline", *map(str, history), "--candidate", str(partial),
                  "--no-require-all")  # fmt: skip
    assert off.returncode == 0, off.stdout


def test_a_baseline_from_another_machine_is_warned_about_or_refused(
    run_file: Path, tmp_path: Path
) -> None:
    def elsewhere(document: dict) -> None:
        document["machine"] = "big-box"
        document["environment"].update(cpu="Other CPU", logical_cores=128)

    other = edited(run_file, tmp_path / "other.json", elsewhere)
    md = tmp_path / "gate.md"
    warned = hwbench("gate", "--baseline", str(other), "--candidate", str(run_file),
                     "--markdown", str(md))  # fmt: skip
    assert warned.returncode == 0, warned.stdout + warned.stderr
    stdout = " ".join(warned.stdout.split())  # as rich wrapped it
    assert "warning: baseline ran on big-box (Other CPU, 128 cores), candidate on m (" in stdout
    assert "machine, cpu, logical_cores differ" in stdout
    assert "**Warning**: baseline ran on big-box (Other CPU, 128 cores)" in md.read_text()
    refused = hwbench("gate", "--baseline", str(other), "--candidate", str(run_file),
                      "--same-machine")  # fmt: skip
    assert refused.returncode == 2, refused.stdout
    assert refused.stderr.startswith("hwbench: error: --same-machine: baseline ran on big-box")
    assert len(refused.stderr.strip().splitlines()) == 1
    same = hwbench("gate", "--baseline", str(run_file), "--candidate", str(run_file),
                   "--same-machine")  # fmt: skip
    assert same.returncode == 0 and "warning" not in same.stdout, same.stdout
