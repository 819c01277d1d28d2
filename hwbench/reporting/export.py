"""pytest-benchmark's JSON format, written from hwbench results and read back as results.

Field names and statistics follow pytest-benchmark 5 (`pytest_benchmark/stats.py`:
`Stats.fields`; `plugin.py`: `pytest_benchmark_generate_json`). Times there are in seconds
per iteration; `data` holds every round.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import numpy as np

from hwbench.errors import UsageError
from hwbench.labels import target_label
from hwbench.measure.stats import latency_ms
from hwbench.results import store
from hwbench.results.record import CaseRecord, Sampling
from hwbench.results.validate import ABSENT, bad_sample, describe, expect, optional

FORMAT_VERSION = "5.1.0"  # the pytest-benchmark JSON layout written
PYTEST_KEY = {
    "workload": "pytest-benchmark",
    "size": "-",
    "engine": "pytest",
    "device": "host",
    "dtype": "-",
    "options": {},
    "scenario": "benchmark",
    "batch": 1,
}


def _quartiles(data: np.ndarray) -> tuple[float, float]:
    """pytest-benchmark's q1 and q3 (Wikipedia's quartile methods 3 and 2)."""
    n, s = len(data), np.sort(data)
    if n == 1:
        return float(s[0]), float(s[0])
    if n % 2 == 0:
        return float(np.median(s[: n // 2])), float(np.median(s[n // 2 :]))
    k, q = n // 4, n % 4
    if q == 1:
        return 0.25 * s[k - 1] + 0.75 * s[k], 0.75 * s[3 * k] + 0.25 * s[3 * k + 1]
    return 0.75 * s[k] + 0.25 * s[k + 1], 0.25 * s[3 * k + 1] + 0.75 * s[3 * k + 2]


def benchmark_stats(data_s: list[float]) -> dict[str, Any]:
    """pytest-benchmark's Stats.as_dict() of per-iteration times in seconds."""
    data = np.asarray(data_s, dtype=float)
    s, mean = np.sort(data), float(data.mean())
    stddev = float(data.std(ddof=1)) if len(data) > 1 else 0.0
    q1, q3 = _quartiles(data)
    iqr = q3 - q1
    low_fence, high_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    iqr_out = int(((data < low_fence) | (data > high_fence)).sum())
    std_out = int(((data < mean - stddev) | (data > mean + stddev)).sum())
    total = float(data.sum())
    return {
        "min": float(s[0]),
        "max": float(s[-1]),
        "mean": mean,
        "stddev": stddev,
        "rounds": len(data),
        "median": float(np.median(data)),
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": iqr_out,
        "stddev_outliers": std_out,
        "outliers": f"{std_out};{iqr_out}",
        "ld15iqr": float(s[np.searchsorted(s, low_fence, "left")]),
        "hd15iqr": float(s[np.searchsorted(s, high_fence, "right") - 1]),
        "ops": len(data) / total if total else 0.0,
        "total": total,
    }


def _benchmark(case: CaseRecord, harness: dict[str, Any]) -> dict[str, Any]:
    key = case.key
    target = target_label(key)
    group = f"{key['workload']}/{key['size']} {key['scenario']}"
    case_id = f"{key['workload']}-{key['size']}-{key['scenario']}-b{key['batch']}"
    name = f"{case_id}[{target}-{key['dtype']}]"
    data = [ns / 1e9 for ns in case.samples_ns]
    options = {
        "disable_gc": False,
        "timer": "hwbench device timer",
        "warmup": True,
        "min_rounds": harness.get("min_samples"),
        "max_time": harness.get("time_budget_s"),
        "min_time": harness.get("min_sample_s"),
    }
    return {
        "group": group,
        "name": name,
        "fullname": f"hwbench::{name}",
        "params": {"target": target, "dtype": key["dtype"], "batch": key["batch"]},
        "param": f"{target}-{key['dtype']}-b{key['batch']}",
        "extra_info": {"hwbench_key": key, "parity": case.parity},
        "options": options,
        "stats": {**benchmark_stats(data), "data": data, "iterations": case.sampling.loops},
    }


def to_pytest_benchmark(document: dict[str, Any]) -> dict[str, Any]:
    """The ok cases of a result document as a pytest-benchmark JSON document."""
    env = document["environment"]
    harness = document.get("config", {}).get("suite", {}).get("harness", {})
    git = env.get("git", {})
    return {
        "machine_info": {
            "node": env.get("host"),
            "processor": env.get("cpu"),
            "machine": env.get("arch"),
            "python_implementation": "CPython",
            "python_version": env.get("python"),
            "system": platform.system(),
            "hwbench_machine": document["machine"],
            "cpu": {"brand_raw": env.get("cpu"), "count": env.get("logical_cores")},
        },
        "commit_info": {"id": git.get("commit"), "dirty": git.get("dirty"), "project": "hwbench"},
        "benchmarks": [_benchmark(c, harness) for c in document["cases"] if c.status == "ok"],
        "datetime": document["created"],
        "version": FORMAT_VERSION,
    }


def is_pytest_benchmark(data: Any) -> bool:
    return isinstance(data, dict) and {"benchmarks", "machine_info"} <= data.keys()


def from_pytest_benchmark(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """A pytest-benchmark JSON document as a result document (cases need their raw data)."""
    check_pytest_benchmark(data, origin)
    info = data["machine_info"]
    cases = [_case(bench) for bench in data["benchmarks"]]
    cpu = info.get("cpu") or {}
    machine = str(info.get("hwbench_machine") or info.get("node") or "unknown")
    env = {
        "host": info.get("node"),
        "cpu": cpu.get("brand_raw") or info.get("processor"),  # processor: often just x86_64
        "logical_cores": cpu.get("count"),
        "git": data.get("commit_info") or {},
    }
    document = store.new_results("pytest-benchmark", machine, env, {"source": origin})
    document.update(created=data.get("datetime") or document["created"], cases=cases)
    return document


def check_pytest_benchmark(data: dict[str, Any], origin: str) -> None:
    """UsageError naming the first field that reading `data` needs and finds wrong."""
    expect(data["machine_info"], dict, "machine_info", origin)
    optional(data["machine_info"].get("cpu"), dict, "machine_info.cpu", origin)
    optional(data.get("commit_info"), dict, "commit_info", origin)
    optional(data.get("datetime"), str, "datetime", origin)
    expect(data["benchmarks"], list, "benchmarks", origin)
    for index, bench in enumerate(data["benchmarks"]):
        _check_benchmark(bench, f"benchmarks[{index}]", origin)


def _check_benchmark(bench: Any, where: str, origin: str) -> None:
    expect(bench, dict, where, origin)
    expect(bench.get("fullname", ABSENT), str, f"{where}.fullname", origin)
    extra = bench.get("extra_info")
    optional(extra, dict, f"{where}.extra_info", origin)
    optional((extra or {}).get("hwbench_key"), dict, f"{where}.extra_info.hwbench_key", origin)
    stats = bench.get("stats", ABSENT)
    expect(stats, dict, f"{where}.stats", origin)
    if not stats.get("data"):
        raise UsageError(
            f"{origin}: {where} ({bench['fullname']!r}) has no raw data (stats.data); save it "
            "with --benchmark-json or --benchmark-save-data"
        )
    expect(stats["data"], list, f"{where}.stats.data", origin)
    bad = bad_sample(stats["data"])
    if bad is not None:
        raise UsageError(
            f"{origin}: {where}.stats.data has a time that is not a positive number of "
            f"seconds: {describe(bad)}"
        )
    iterations = stats.get("iterations", 1)
    expect(iterations, int, f"{where}.stats.iterations", origin)
    if iterations < 1:
        raise UsageError(f"{origin}: {where}.stats.iterations is {iterations}, not at least 1")


def _case(bench: dict[str, Any]) -> CaseRecord:
    key = (bench.get("extra_info") or {}).get("hwbench_key") or {
        **PYTEST_KEY,
        "fullname": bench["fullname"],
    }
    samples_ns = [float(t) * 1e9 for t in bench["stats"]["data"]]
    return CaseRecord(
        key=key,
        status="ok",
        samples_ns=tuple(samples_ns),
        sampling=Sampling(loops=bench["stats"].get("iterations", 1)),
        metrics={"latency_ms": latency_ms(samples_ns)},
    )


def load_any(path: Path) -> dict[str, Any]:
    """A hwbench result file, or a pytest-benchmark JSON file read as one."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return store.load(path)  # raises its one-line error
    return read_any(data, str(path))


def read_any(data: Any, origin: str) -> dict[str, Any]:
    """Parsed JSON as a result document: a hwbench result, or a pytest-benchmark file."""
    if is_pytest_benchmark(data):
        return from_pytest_benchmark(data, origin)
    return store.read(data, origin)
