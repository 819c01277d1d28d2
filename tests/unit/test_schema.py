"""The published JSON Schemas: what hwbench writes validates against them, as strict JSON (no
NaN or Infinity), and `hwbench schema` prints them without importing torch."""

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import torch

from hwbench.analysis.roofline import position
from hwbench.backends.base import MemoryStats
from hwbench.backends.peaks import Peak
from hwbench.cli import main
from hwbench.llm.metrics import RequestResult, case_metrics, summarize_requests, token_times
from hwbench.measure.harness import Measurement
from hwbench.measure.parity import compare
from hwbench.results import store
from hwbench.results.record import CaseRecord, Sampling, Timings
from hwbench.results.schema import KINDS, schema
from hwbench.scenarios.latency import Latency
from tests.conftest import hwbench_cmd
from tests.records import KEY

ROOT = Path(__file__).parents[2]
COMMITTED = sorted((ROOT / "results").rglob("*.json"))
NO_TORCH = "import sys; sys.modules['torch'] = None  # any import of torch fails\n"


def committed(kind: str) -> list[Path]:
    return [p for p in COMMITTED if json.loads(p.read_text()).get("schema") == f"hwbench-{kind}"]


def errors(data: dict, kind: str = "results") -> list[str]:
    """Where and why `data` does not validate (empty when it does)."""
    validator = jsonschema.Draft202012Validator(
        schema(kind), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    found = validator.iter_errors(data)
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in found]


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def strict_loads(text: str) -> dict:
    """JSON as JavaScript's JSON.parse reads it: NaN and Infinity refused."""
    return json.loads(text, parse_constant=_refuse)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_schema_is_a_draft_2020_12_json_schema(kind):
    jsonschema.Draft202012Validator.check_schema(schema(kind))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_hwbench_schema_prints_the_schema(kind, capsys):
    assert main(["schema", "--kind", kind]) == 0
    assert json.loads(capsys.readouterr().out) == schema(kind)


def test_the_schema_command_imports_no_torch():
    script = NO_TORCH + (
        "import argparse\nfrom hwbench.commands import schema\n"
        "sys.exit(schema.main(argparse.Namespace(kind='results')))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == schema("results")


def test_hwbench_schema_runs_without_torch():
    """Through the CLI, which imports every command module to build its parser."""
    script = NO_TORCH + "from hwbench.cli import main\nsys.exit(main(['schema']))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("path", committed("results"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_committed_result_validates_once_saved_again(path):
    """Whatever its version, read and written again by this hwbench; a version 4 file as it
    is, too (the strictness of what hwbench writes now is tested on fresh documents)."""
    again = strict_loads(store.dumps(store.load(path)))
    assert again["schema_version"] == store.SCHEMA_VERSION
    assert errors(again) == []
    raw = json.loads(path.read_text())
    if raw["schema_version"] == store.SCHEMA_VERSION:
        assert errors(raw) == []


@pytest.mark.parametrize("path", committed("peaks"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_committed_peaks_file_validates(path):
    assert errors(json.loads(path.read_text()), "peaks") == []


def step_record() -> CaseRecord:
    """A latency case as StepTiming.finish builds it, from 3 samples: too few for a CI."""
    measurement = Measurement(
        samples_ns=[1.2e6, 1.0e6, 1.1e6], loops=4, warmup_runs=3, stop_reason="time_budget",
        pass_starts=[0, 1, 2], pass_times=[1.7e9, 1.7e9 + 1, 1.7e9 + 2],
    )  # fmt: skip
    metrics = Latency().metrics(measurement, 1)
    datasheet = Peak(1e12, None, "a datasheet", "datasheet")  # no bandwidth: no bound
    return CaseRecord(
        key=KEY,
        status="ok",
        unstable="3 samples (fewer than 10); no finite 95% CI of the median",
        workload={"name": "mlp", "family": "mlp", "size": "tiny"},
        parity={"passed": True, "tolerance": 1e-4, "rel_l2": 0.0, "max_abs": 0.0},
        metrics=metrics,
        samples_ns=tuple(measurement.samples_ns),
        sampling=Sampling(4, 3, "time_budget", measurement.rel_ci_halfwidth, (0, 1, 2)),
        session={"precision": "fp32"},
        memory=MemoryStats(2**20, None).to_json(),
        roofline=position(2e6, 4e6, 1.1e-3, measured=None, datasheet=datasheet),
        timings=Timings(0.1, 0.01, 0.5),
    )


def llm_record(scenario: str) -> CaseRecord:
    """A generate or serve case: vLLM's fields, the E2E summary, the scenario's details."""
    times = [[0.01, 0.02, 0.03], [0.011, 0.021, 0.032]]
    results = [RequestResult(True, 24, 3, t[0], [t[1] - t[0], t[2] - t[1]], t[2]) for t in times]
    llm = summarize_requests(results, 0.05, {"ttft": 500.0})
    key = {**KEY, "scenario": scenario, "batch": 2, "prompt_len": 24, "output_len": 3}
    record = CaseRecord(
        key=key,
        status="ok",
        parity={"passed": True, "compared": "prompt log-probabilities", "rel_l2": 1e-7},
        metrics=case_metrics(llm, [r.e2el_s * 1e9 for r in results], generations=1),
        samples_ns=tuple(r.e2el_s * 1e9 for r in results),
        sampling=Sampling(warmup_runs=1, stop_reason="time_budget"),
    )
    if scenario == "generate":
        decode = {**position(1e6, 2e6, 1e-3, None, None), "step": "decode at context 25"}
        return replace(record, roofline=decode).with_details(token_times_s=token_times([times]))
    serve = {**key, "request_rate": "inf", "burstiness": math.inf}
    requests = [{"ttft_s": r.ttft_s, "e2el_s": r.e2el_s, "output_len": 3} for r in results]
    return replace(record, key=serve).with_details(
        requests=requests, server_log="/tmp/vllm-server.log"
    )


def other_records() -> list[CaseRecord]:
    """Cases without a speed: parity broken by NaN, a crash, a skip, a failed serve load;
    and the tools' own fields: a ladder rung, an A/B arm, --check-only."""
    nan_parity = compare(torch.ones(2, 3), torch.full((2, 3), math.nan), "fp32")
    return [
        CaseRecord(KEY, "failed", "parity: output has NaN or inf", parity=nan_parity),
        CaseRecord(KEY, "failed", "worker died", details={"traceback": "Traceback ..."}),
        CaseRecord({**KEY, "device": "npu"}, "skipped", "device npu unavailable: no torch_npu"),
        CaseRecord(KEY, "failed", "1 of 2 requests failed: 500").with_details(
            partial_metrics=llm_record("serve").metrics["llm"]
        ),
        CaseRecord(KEY, "ok", "parity checked; not timed (--check-only)", parity={"passed": True}),
        step_record().with_details(rung="fp32-eager"),
        replace(step_record(), key={**KEY, "arm": "a", "python": "py"}),
    ]


def fresh_document(cases: list[CaseRecord]) -> dict:
    config = {"suite": {"burstiness": math.inf, "request_rates": ["inf"]}}
    document = store.new_results("unit", "box", {"host": "box", "packages": {"vllm": None}}, config)
    document["devices"] = {"cpu": {"available": True, "reason": "", "info": {}, "environment": {}}}
    document["ladder"] = ["fp32-eager"]
    document["noise"] = {"meaningful_pct": 3.0, "basis": "A/A canary, 1 pairs", "pairs": []}
    document["cases"] = cases
    return document


def test_a_fresh_document_of_every_scenario_saves_as_strict_json_and_validates(tmp_path):
    cases = [step_record(), llm_record("generate"), llm_record("serve"), *other_records()]
    path = tmp_path / "r.json"
    store.save(fresh_document(cases), path)
    written = strict_loads(path.read_text())
    assert errors(written) == []
    step, *_, serve = written["cases"][:3]
    assert step["sampling"]["rel_ci_halfwidth"] is None
    assert step["metrics"]["latency_ms"]["median_ci_low"] is None
    assert written["cases"][3]["parity"]["rel_l2"] is None
    assert serve["key"]["burstiness"] == "inf" == written["config"]["suite"]["burstiness"]
    assert store.load(path)["cases"][:2] == cases[:2]  # the unknowns read back as infinities


@pytest.mark.slow
def test_a_real_run_writes_a_strict_valid_file_and_prints_it(tmp_path):
    """`hwbench run --json`: the file and what it prints, the same strict, valid JSON."""
    done = subprocess.run(
        hwbench_cmd(
            "run", "--workload", "mlp", "--target", "torch@cpu", "--scenario", "latency",
            "--time-budget", "0.2", "--out", str(tmp_path), "--machine", "box", "--json",
        ),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    [path] = (tmp_path / "box").glob("*.json")
    written = strict_loads(path.read_text())
    assert errors(written) == []
    assert strict_loads(done.stdout) == written
