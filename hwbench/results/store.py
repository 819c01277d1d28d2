"""The result file: schema, atomic save, validated load.

Schema history (bump SCHEMA_VERSION on any change a reader must know about):
  1  first version: {schema, schema_version, suite, machine, created, environment,
     devices, config, cases: [{key, status, reason, metrics, samples_ns, ...}]}
  2  a case's roofline block adds intensity_flop_per_byte, bound, bound_from and the
     `measured` / `datasheet` comparisons (hwbench/analysis/roofline.py); version 1 files still load
  3  generate and serve cases: the key adds prompt_len, output_len (and request_rate as text,
     burstiness for serve); metrics add `llm` (vLLM-bench fields: mean/median/std/p90/p99 of
     ttft, tpot, itl, e2el in ms, request/output/total-token throughput, goodput) and
     `throughput_unit`; the record adds token_times_s (generate), requests and server_log
     (serve); their roofline block is one decode step, or absent (serve)
     Also in 3, optional (older readers may ignore them): a step case's pass_starts, the index
     in samples_ns where each interleaved pass began ([0]: measured in one go), and
     pass_times, when each began (Unix seconds)
  4  a case is a CaseRecord (hwbench/results/record.py): loops, warmup_runs, stop_reason,
     rel_ci_halfwidth, pass_starts and pass_times move into a `sampling` block, prepare_s,
     first_run_s and sampling_s into `timings`; `energy` may appear. Files of versions 1-3
     are migrated on load (`migrate`), so every reader sees version 4.
     Later in 4, strict JSON (no version: `read` hands readers the values they had): null
     where earlier files wrote Infinity or NaN for a measurement hwbench could not know
     (UNKNOWN), read back as that infinity; a setting given as infinite, in `key` or
     `config`, as the text "inf" (as request_rate always was); any other non-finite number
     fails the save. `hwbench schema` prints this version's JSON Schema.
     Later in 4, optional: a timed case's `energy` block has its fields defined (status:
     measured, not exposed, too short or failed; joules_per, per_joule, mean_w, peak_w,
     idle_w, resolution_bound_pct ...; hwbench/measure/energy.py); older files have none.
     Later in 4, optional: a case run on a Ray node (`run --ray`) holds `fleet` (the node's
     id and name, its machine folder, start and end times there); `config` adds `fleet`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from hwbench.errors import UsageError
from hwbench.results import files
from hwbench.results.record import CaseRecord
from hwbench.results.validate import ABSENT, check_body, expect

SAMPLING_FIELDS = (
    "loops", "warmup_runs", "stop_reason", "rel_ci_halfwidth", "pass_starts", "pass_times",
)  # fmt: skip
TIMING_FIELDS = ("prepare_s", "first_run_s", "sampling_s")

SCHEMA = "hwbench-results"
SCHEMA_VERSION = 4
REQUIRED = ("schema", "schema_version", "suite", "machine", "created", "environment", "cases")
# A case's measurements that may be unknown: non-finite in memory, null in the file (the schema,
# results.schema.json, says what null means at each), and this value again once read.
UNKNOWN = {
    ("sampling", "rel_ci_halfwidth"): math.inf,  # fewer samples than the median's CI needs
    ("metrics", "latency_ms", "median_ci_low"): -math.inf,  # likewise
    ("metrics", "latency_ms", "median_ci_high"): math.inf,
    ("parity", "rel_l2"): math.inf,  # the output held NaN or inf
    ("parity", "max_abs"): math.inf,  # likewise
}


def new_results(
    suite: str, machine: str, environment: dict[str, Any], config: dict[str, Any]
) -> dict[str, Any]:
    """An empty result document for one run."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "suite": suite,
        "machine": machine,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": environment,
        "devices": {},
        "config": config,
        "cases": [],
    }


def result_path(out_dir: Path, machine: str, suite: str) -> Path:
    """results/<machine>/<timestamp>-<suite>.json, the name a run's file is first offered
    (`save_new` adds -2, -3, ... when another run took it)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return out_dir / machine / f"{stamp}-{suite}.json"


def save(document: dict[str, Any], path: Path) -> None:
    """Write `document` to `path` atomically: a reader sees the old file or the new one.
    SaveError (one line) when it cannot be written."""
    files.write_text(path, dumps(document))


def save_new(document: dict[str, Any], path: Path) -> Path:
    """Write `document` to `path`, or beside it under a free name when `path` exists: a run
    never overwrites another's result. The path written."""
    return files.write_new(path.parent, path.stem, dumps(document), path.suffix)


def dumps(document: dict[str, Any]) -> str:
    """The document as the file holds it, as strict JSON text; ValueError naming the field
    where a NaN or infinity is left that is neither in UNKNOWN nor a setting."""
    data = as_json(document)
    try:
        return json.dumps(data, indent=1, allow_nan=False)
    except ValueError as error:
        where = _non_finite(data, "document")
        if where is None:
            raise
        raise ValueError(f"{where} is not finite, and JSON has no NaN or Infinity") from error


def load(path: Path) -> dict[str, Any]:
    """A result document, validated; UsageError (one line) for anything that is not one."""
    try:
        document = json.loads(Path(path).read_text())
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not a hwbench result file (not JSON: {error})") from None
    return read(document, str(path))


def read(data: Any, origin: str) -> dict[str, Any]:
    """Parsed JSON as a result document of this version: validated, migrated, its cases
    CaseRecords."""
    validate(data, origin)
    return read_cases(migrate(data))


def validate(document: Any, origin: str) -> None:
    """Raise UsageError unless `document` is a result document this version can read, naming
    the field that is wrong (the header here, the blocks and cases in results/validate.py)."""
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise UsageError(f"{origin} is not a hwbench result file (no schema {SCHEMA!r})")
    version = document.get("schema_version", ABSENT)
    expect(version, int, "schema_version", origin)
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"{origin} has schema version {version!r}; this hwbench reads up to "
            f"{SCHEMA_VERSION}: upgrade hwbench"
        )
    if version < 1:
        raise UsageError(f"{origin}: schema_version is {version}; versions start at 1")
    missing = [key for key in REQUIRED if key not in document]
    if missing:
        raise UsageError(f"{origin} is missing {', '.join(missing)}")
    check_body(document, origin)


def as_json(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the file holds it: its CaseRecords in their JSON form, `strict` (a
    document without cases, such as a peaks file or an export, as it is)."""
    if "cases" not in document:
        return document
    cases = [c.to_json() if isinstance(c, CaseRecord) else c for c in document["cases"]]
    return strict({**document, "cases": cases})


def strict(document: dict[str, Any]) -> dict[str, Any]:
    """A result document in JSON form without the NaN and Infinity a run may hold: each case's
    UNKNOWN measurements as null, infinite settings in `config` and each key as text."""
    cases = [_strict_case(case) for case in document["cases"]]
    return _with({**document, "cases": cases}, ("config",), _settings)


def _strict_case(case: dict[str, Any]) -> dict[str, Any]:
    for path in UNKNOWN:
        case = _with(case, path, _finite_or_none)
    return _with(case, ("key",), _settings)


def _restored(case: dict[str, Any]) -> dict[str, Any]:
    """A case as read: each UNKNOWN measurement written as null back to its infinity."""
    for path, unknown in UNKNOWN.items():
        case = _with(case, path, partial(_null_as, unknown))
    return case


def _with(data: Any, path: tuple[str, ...], change: Callable[[Any], Any]) -> Any:
    """`data` with the value at `path` (keys of nested dicts) replaced by change(value); as it
    is where the path leads nowhere."""
    head, *rest = path
    if not isinstance(data, dict) or head not in data:
        return data
    value = _with(data[head], tuple(rest), change) if rest else change(data[head])
    return {**data, head: value}


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _null_as(unknown: float, value: Any) -> Any:
    return unknown if value is None else value


def _settings(value: Any) -> Any:
    """Settings with each non-finite number as its text ('inf'), as `rate_text` writes a rate."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _settings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_settings(v) for v in value]
    return value


def _non_finite(value: Any, where: str) -> str | None:
    """Where in `value` the first NaN or infinity is (`where` names `value`), or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else where
    if not isinstance(value, dict | list | tuple):
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value)
    found = (_non_finite(v, f"{where}[{k!r}]") for k, v in items)
    return next((f for f in found if f is not None), None)


def migrate(document: dict[str, Any]) -> dict[str, Any]:
    """A valid document of any earlier version as version 4: each case's sampling facts and
    timings moved into their blocks. Version 2's roofline and version 3's LLM fields need
    nothing: version 4 holds them as they were."""
    if document["schema_version"] >= 4:
        return document
    cases = [_migrate_case(case) for case in document["cases"]]
    return {**document, "schema_version": SCHEMA_VERSION, "cases": cases,
            "migrated_from": document["schema_version"]}  # fmt: skip


def _migrate_case(case: dict[str, Any]) -> dict[str, Any]:
    moved = {k: v for k, v in case.items() if k not in SAMPLING_FIELDS + TIMING_FIELDS}
    sampling = {k: case[k] for k in SAMPLING_FIELDS if k in case}
    timings = {k: case[k] for k in TIMING_FIELDS if k in case}
    if sampling:
        moved["sampling"] = sampling
    if timings:
        moved["timings"] = timings
    return moved


def read_cases(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its cases as CaseRecords."""
    cases = [CaseRecord.from_json(_restored(case)) for case in document["cases"]]
    return {**document, "cases": cases}
