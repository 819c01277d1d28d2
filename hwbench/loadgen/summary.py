"""LoadGen's result read back from its detail log (`:::MLLOG {json}` lines, keys as written by
loadgen/results.cc), with its summary log's presence checked: the figures hwbench records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SUMMARY, DETAIL = "mlperf_log_summary.txt", "mlperf_log_detail.txt"
MLLOG = ":::MLLOG "
# The figure each scenario is judged by (MLPerf Inference rules, "Scenarios" table).
HEADLINE = {
    "SingleStream": "p90_ms",
    "MultiStream": "p99_ms",
    "Server": "qps",  # the scheduled rate, VALID only with p99 within the bound
    "Offline": "samples_per_s",
}
# scenario -> (queries per second, samples per second): the detail log's keys (results.cc);
# MultiStream logs neither.
RATES = {
    "SingleStream": ("result_qps_with_loadgen_overhead", "result_qps_with_loadgen_overhead"),
    "Server": ("result_scheduled_samples_per_sec", "result_completed_samples_per_sec"),
    "Offline": (None, "result_samples_per_second"),
}


class LoadGenLogError(Exception):
    """LoadGen's logs are missing or do not say what its run found."""


def read_detail(path: Path) -> dict[str, Any]:
    """key -> value of every MLLOG line (the last one wins); errors and warnings listed."""
    values: dict[str, Any] = {"errors": [], "warnings": []}
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith(MLLOG):
            continue
        entry = json.loads(line[len(MLLOG) :])
        values[entry["key"]] = entry["value"]
        meta = entry.get("metadata") or {}
        if meta.get("is_error"):
            values["errors"].append(f"{entry['key']}: {entry['value']}")
        elif meta.get("is_warning"):
            values["warnings"].append(f"{entry['key']}: {entry['value']}")
    return values


def read_logs(log_dir: Path) -> dict[str, Any]:
    """The detail log's values, once both logs are found in `log_dir`."""
    summary, detail = log_dir / SUMMARY, log_dir / DETAIL
    if not summary.is_file() or not detail.is_file():
        raise LoadGenLogError(f"LoadGen wrote no {SUMMARY} and {DETAIL} in {log_dir}")
    return read_detail(detail)


def accuracy_facts(log_dir: Path) -> dict[str, Any]:
    """What an AccuracyOnly run logs (it judges nothing): the queries it made, its errors."""
    values = read_logs(log_dir)
    return {
        "mode": values.get("effective_test_mode"),
        "query_count": values.get("generated_query_count"),
        "errors": values["errors"],
    }


def figures(log_dir: Path) -> dict[str, Any]:
    """What LoadGen judged in `log_dir`: result (VALID or INVALID), its reason, 50/90/99th
    percentile latency in ms, queries per second, samples per second, the query count."""
    values = read_logs(log_dir)
    detail = log_dir / DETAIL
    if "result_validity" not in values:
        raise LoadGenLogError(f"{detail} has no result_validity: LoadGen did not finish its run")
    scenario = values.get("effective_scenario")
    result: dict[str, Any] = {
        "scenario": scenario,
        "mode": values.get("effective_test_mode"),
        "result": values["result_validity"],
        "reason": " ".join(str(values.get("result_invalid_reason", "")).split()),
        "early_stopping": " ".join(str(values.get("early_stopping_result", "")).split()),
        "query_count": values.get("result_query_count"),
        "samples_per_query": values.get("effective_samples_per_query"),
        "errors": values["errors"],
        "warnings": values["warnings"],
    }
    per_query = "_per_query" if scenario == "MultiStream" else ""  # MultiStream: whole queries
    for pct in ("50.00", "90.00", "99.00"):
        ns = values.get(f"result_{pct}_percentile{per_query}_latency_ns")
        result[f"p{pct[:2]}_ms"] = ns / 1e6 if ns is not None else None
    qps_key, samples_key = RATES.get(scenario or "", (None, None))
    result["qps"] = values.get(qps_key) if qps_key else None
    result["samples_per_s"] = values.get(samples_key) if samples_key else None
    result["headline"] = HEADLINE.get(scenario or "")
    result |= token_figures(values)
    if result["result"] != "VALID" and not result["reason"]:
        result["reason"] = "early stopping not satisfied: " + result["early_stopping"]
    return result


def token_figures(values: dict[str, Any]) -> dict[str, Any]:
    """TTFT and TPOT percentiles (ms) and tokens/s of a run with token latencies; else {}."""
    if "result_first_token_99.00_percentile_latency_ns" not in values:
        return {}
    found: dict[str, Any] = {"tokens_per_s": values.get("result_completed_tokens_per_second")}
    for pct in ("50.00", "90.00", "99.00"):
        ttft = values.get(f"result_first_token_{pct}_percentile_latency_ns")
        tpot = values.get(f"result_time_per_output_token_{pct}_percentile_ns")
        found[f"ttft_p{pct[:2]}_ms"] = ttft / 1e6 if ttft is not None else None
        found[f"tpot_p{pct[:2]}_ms"] = tpot / 1e6 if tpot is not None else None
    return found


def figure_text(judged: dict[str, Any]) -> str:
    """The scenario's own figure with its name and unit; empty unless the run was VALID."""
    name = judged.get("headline")
    if judged.get("result") != "VALID" or not name or judged.get(name) is None:
        return ""
    if name == "samples_per_s":
        return f"{judged[name]:.4g} samples/s"
    if name == "qps" and judged.get("ttft_p99_ms") is not None:
        return (
            f"{judged[name]:.4g} QPS (TTFT p99 {judged['ttft_p99_ms']:.4g} ms, "
            f"TPOT p99 {judged['tpot_p99_ms']:.4g} ms)"
        )
    if name == "qps":
        return f"{judged[name]:.4g} QPS (p99 {judged['p99_ms']:.4g} ms)"
    return f"{name.removesuffix('_ms')} {judged[name]:.4g} ms"
