"""The result file: schema, atomic save, validated load.

Schema history (bump SCHEMA_VERSION on any change a reader must know about):
  1  first version: {schema, schema_version, suite, machine, created, environment,
     devices, config, cases: [{key, status, reason, metrics, samples_ns, ...}]}
  2  a case's roofline block adds intensity_flop_per_byte, bound, bound_from and the
     `measured` / `datasheet` comparisons (hwbench/roofline.py); version 1 files still load
  3  generate and serve cases: the key adds prompt_len, output_len (and request_rate as text,
     burstiness for serve); metrics add `llm` (vLLM-bench fields: mean/median/std/p90/p99 of
     ttft, tpot, itl, e2el in ms, request/output/total-token throughput, goodput) and
     `throughput_unit`; the record adds token_times_s (generate), requests and server_log
     (serve); their roofline block is one decode step, or absent (serve)
     Also in 3, optional (older readers may ignore them): a step case's pass_starts, the index
     in samples_ns where each interleaved pass began ([0]: measured in one go), and
     pass_times, when each began (Unix seconds)
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hwbench.errors import UsageError

SCHEMA = "hwbench-results"
SCHEMA_VERSION = 3
STATUSES = ("ok", "failed", "skipped")
REQUIRED = ("schema", "schema_version", "suite", "machine", "created", "environment", "cases")
CASE_REQUIRED = ("key", "status")


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
    """results/<machine>/<timestamp>-<suite>.json"""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return out_dir / machine / f"{stamp}-{suite}.json"


def save(document: dict[str, Any], path: Path) -> None:
    """Write `document` to `path` atomically: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=1, allow_nan=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> dict[str, Any]:
    """A result document, validated; UsageError (one line) for anything that is not one."""
    try:
        document = json.loads(Path(path).read_text())
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not a hwbench result file (not JSON: {error})") from None
    validate(document, str(path))
    return document


def validate(document: Any, origin: str) -> None:
    """Raise UsageError unless `document` is a result document this version can read."""
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise UsageError(f"{origin} is not a hwbench result file (no schema {SCHEMA!r})")
    version = document.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise UsageError(
            f"{origin} has schema version {version!r}; this hwbench reads up to "
            f"{SCHEMA_VERSION}: upgrade hwbench"
        )
    missing = [key for key in REQUIRED if key not in document]
    if missing:
        raise UsageError(f"{origin} is missing {', '.join(missing)}")
    for index, case in enumerate(document["cases"]):
        if not isinstance(case, dict) or any(key not in case for key in CASE_REQUIRED):
            raise UsageError(f"{origin}: case {index} lacks {', '.join(CASE_REQUIRED)}")
        if case["status"] not in STATUSES:
            raise UsageError(f"{origin}: case {index} has unknown status {case['status']!r}")
