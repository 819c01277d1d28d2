"""Cases measured in passes taken in turns across a group (a group of one: in one go).

Each case of the group is loaded in a worker of its own during the first pass, which times the
case's first slice right after loading it; each later pass visits the cases still running in a
shuffled order (seeded), so no case always follows the same neighbour. A case ends after its
last pass (or early, at max_samples), or as it loads when its scenario measures it to the end
(generate, serve, a skipped or parity-failed case); its record is made in its worker. A crash
or a timeout fails only its own case. On Ctrl-C, each case with at least one slice timed (but
the one being timed) is saved from the slices it has, with stop_reason "interrupted"; nothing
measured is thrown away.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hwbench.case import Case
from hwbench.execution.process import Timeout, WorkerDied, WorkerProcess
from hwbench.results.record import CaseRecord

Finish = Callable[[Case, CaseRecord], None]
OnCase = Callable[[Case, CaseRecord | None, float], None]
FINISH_GRACE_S = 10.0  # for a worker to exit on its own after its last reply


class _Member:
    """One case of the group and its worker (None once it has finished)."""

    def __init__(self, case: Case, env: dict[str, str], stderr_file: Path) -> None:
        self.case, self.env, self.stderr_file = case, env, stderr_file
        self.worker: WorkerProcess | None = None
        self.slices = 0  # timed so far
        self.busy = False  # a request is in flight


def run_group(
    group: list[tuple[Case, dict[str, str]]],
    timeout_s: float,
    preload: tuple[str, ...],
    seed: int,
    finish: Finish,
    on_case: OnCase,
) -> None:
    """Measure `group` (cases and their environments, all of one `harness.passes`) in that
    many interleaved passes; `finish(case, record)` as each ends. On any exit, no worker is
    left running."""
    passes = group[0][0].harness.passes
    with tempfile.TemporaryDirectory(prefix="hwbench-cases-") as tmp:
        members = [_Member(c, e, Path(tmp, f"stderr-{i}.txt")) for i, (c, e) in enumerate(group)]
        try:
            for pass_index in range(passes):
                order = list(members)
                if pass_index:
                    random.Random(seed * 1009 + pass_index).shuffle(order)
                for member in order:
                    if pass_index == 0:
                        on_case(member.case, None, 0.0)
                        _load(member, timeout_s, preload, finish)
                    elif member.worker is not None:
                        on_case(member.case, None, pass_index / passes)
                    if member.worker is not None:
                        _slice(member, timeout_s, finish)
                    if member.worker is not None:  # still going
                        on_case(member.case, None, (pass_index + 1) / passes)
        except KeyboardInterrupt:
            _save_interrupted(members, finish)
            raise
        finally:
            for member in members:
                if member.worker is not None:
                    member.worker.close()


def _load(member: _Member, timeout_s: float, preload: tuple[str, ...], finish: Finish) -> None:
    device = member.case.parsed_target.device
    try:
        member.worker = WorkerProcess(member.stderr_file, member.env, preload, device)
    except WorkerDied as died:
        finish(member.case, member.case.outcome("failed", died.reason))
        return
    reply = _ask(member, {"op": "load", "case": member.case.to_json()}, timeout_s)
    if "record" in reply:  # it ended as it loaded, or failed
        _end(member, reply["record"], finish)


def _slice(member: _Member, timeout_s: float, finish: Finish) -> None:
    member.busy = True
    reply = _ask(member, {"op": "slice"}, timeout_s)
    member.busy, member.slices = False, member.slices + 1
    if "record" not in reply and reply["done"]:
        reply = _ask(member, {"op": "finish"}, timeout_s)
    if "record" in reply:
        _end(member, reply["record"], finish)


def _save_interrupted(members: list[_Member], finish: Finish) -> None:
    """On Ctrl-C: the record of each case idle between slices, from the slices it has."""
    for member in members:
        if member.worker is None or member.busy or not member.slices:
            continue
        reply = _ask(member, {"op": "finish"}, FINISH_GRACE_S)
        if reply["record"].ok:
            _end(member, reply["record"], finish)


def _ask(member: _Member, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """The worker's reply to `message`; if it raised, timed out or died, a reply carrying the
    case's failed record."""
    assert member.worker is not None
    try:
        reply = member.worker.request(message, timeout_s)
    except Timeout:
        return {"record": member.case.outcome("failed", f"timed out after {timeout_s:g} s")}
    except WorkerDied as died:
        return {"record": member.case.outcome("failed", died.reason)}
    if not reply["ok"]:
        failed = member.case.outcome("failed", reply["error"], traceback=reply["traceback"])
        return {"record": failed}
    if "record" in reply:
        reply["record"] = CaseRecord.from_json(reply["record"])
    return reply


def _end(member: _Member, record: CaseRecord, finish: Finish) -> None:
    assert member.worker is not None
    member.worker.close(FINISH_GRACE_S)
    member.worker = None
    finish(member.case, record)
