"""The Ray task of one case: on its node, the case runs as a local run runs it, in a worker
process of its own through the one worker protocol (hwbench.execution.interleave.run_group,
a group of one), so isolation, timeouts and parity checks are those of a local run. A device
the node cannot use skips the case there, as a local run skips it.

Ctrl-C on the head cancels the task (`ray.cancel`, force=False: a KeyboardInterrupt here),
and run_group closes the case's worker on the way out.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from hwbench.case import Case
from hwbench.execution.interleave import run_group
from hwbench.execution.runner import skip_reason
from hwbench.results.logs import CASE_INDEX_ENV, LOG_DIR_ENV
from hwbench.results.record import CaseRecord


def run_case(
    case_json: dict[str, Any],
    index: int,
    devices: dict[str, Any],
    timeout_s: float,
    preload: tuple[str, ...],
) -> dict[str, Any]:
    """The case's record (JSON) and where and when it ran: this node's id and the Unix times
    (on this node) the case started and ended."""
    import ray  # this runs in a Ray worker, where ray is imported already

    case = Case.from_json(case_json)
    started = time.time()
    reason = skip_reason(case, devices)
    record = case.outcome("skipped", reason) if reason else _run(case, index, timeout_s, preload)
    where = {
        "node_id": ray.get_runtime_context().get_node_id(),
        "started": started,
        "ended": time.time(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),  # Ray's: the task's CPUs
    }
    return {"record": record.to_json(), "fleet": where}


def _run(case: Case, index: int, timeout_s: float, preload: tuple[str, ...]) -> CaseRecord:
    records: list[CaseRecord] = []
    with tempfile.TemporaryDirectory(prefix="hwbench-fleet-logs-") as logs:
        env = {**os.environ, LOG_DIR_ENV: logs, CASE_INDEX_ENV: str(index)}
        run_group(
            [(case, env)],
            timeout_s,
            preload,
            case.seed,
            lambda _, record: records.append(record),
            lambda *_: None,
        )
    return records[0]
