"""A suite across the cluster: probe the nodes, place the cases, submit one Ray task per case,
and keep each record in its machine's file as it arrives.

Faults, by what Ray raises at `ray.get` (ray/exceptions.py): a task whose node died while it
ran raises NodeDiedError ("the node is either dead or unreachable"): `failed: node lost
(...)`; one still queued for a dead node (hard NodeAffinity) raises TaskUnschedulableError, a
Ray worker killed under it WorkerCrashedError: node lost where Ray's node table then says the
node is dead, else failed with what Ray said. The other nodes' cases go on. Ctrl-C cancels
every unfinished task (`ray.cancel`) and keeps what finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from hwbench.case import Case
from hwbench.config import Suite
from hwbench.execution.runner import worker_preload
from hwbench.fleet.connect import connect
from hwbench.fleet.machines import MachineFiles
from hwbench.fleet.manifest import case_line, new_manifest, save_manifest
from hwbench.fleet.nodes import Node, dead_node_ids, probe_nodes
from hwbench.fleet.placement import Placement, place, task_resources
from hwbench.fleet.task import run_case
from hwbench.results.record import CaseRecord

OnRecord = Callable[[Placement, CaseRecord], None]
CANCEL_WAIT_S = 15.0  # for cancelled tasks to close their case workers
DEATH_WAIT_S = 10.0  # for Ray's node table to mark a node dead after its task failed


@dataclass
class FleetRun:
    """What a fleet run made: its nodes, placements, machine files and manifest."""

    nodes: list[Node]
    placements: list[Placement]
    machines: MachineFiles
    manifest: dict[str, Any]
    manifest_path: Path
    records: dict[int, CaseRecord] = field(default_factory=dict)  # by the case's suite index

    @property
    def unplaced(self) -> list[CaseRecord]:
        return [self.records[p.index] for p in self.placements if p.node is None]


def run_fleet(
    suite: Suite, cases: list[Case], out_dir: Path, address: str, on_record: OnRecord
) -> FleetRun:
    """Run `cases` of `suite` on the cluster at `address` ('local': one started here)."""
    ray = connect(address)
    try:
        nodes = probe_nodes(ray, suite)
        placements = place(cases, nodes)
        machines = MachineFiles(suite, out_dir, placements, address)
        manifest = new_manifest(suite.name, address, nodes)
        manifest["files"] = {m: str(p.relative_to(out_dir)) for m, p in machines.paths.items()}
        run = FleetRun(nodes, placements, machines, manifest, save_manifest(manifest, out_dir))
        try:
            _skip_unplaced(run, on_record)
            _gather(ray, _submit(ray, suite, placements), run, on_record)
            machines.finish()
        finally:
            _close_manifest(ray, run, out_dir)
        return run
    finally:
        ray.shutdown()


def _skip_unplaced(run: FleetRun, on_record: OnRecord) -> None:
    for placement in run.placements:
        if placement.node is None:
            record = placement.case.outcome("skipped", placement.reason)
            run.records[placement.index] = record
            on_record(placement, record)


def _submit(ray: ModuleType, suite: Suite, placements: list[Placement]) -> dict[Any, Placement]:
    """One task per placed case, pinned to its node (NodeAffinitySchedulingStrategy,
    soft=False: never elsewhere), never retried: a benchmark is not run twice unasked."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(run_case)
    preload = worker_preload(suite)
    refs = {}
    for placement in placements:
        node = placement.node
        if node is None:
            continue
        options = task_resources(placement.case.parsed_target, node)
        strategy = NodeAffinitySchedulingStrategy(node.id, soft=False)
        task = remote.options(scheduling_strategy=strategy, max_retries=0, **options)
        ref = task.remote(
            placement.case.to_json(), placement.index, node.devices, suite.case_timeout_s, preload
        )
        refs[ref] = placement
    return refs


def _gather(
    ray: ModuleType, refs: dict[Any, Placement], run: FleetRun, on_record: OnRecord
) -> None:
    """Keep each record as its task ends; on any exit, cancel the tasks still out."""
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                placement = refs[ref]
                record = run.machines.add(placement, _record(ray, ref, placement))
                run.records[placement.index] = record
                on_record(placement, record)
    except BaseException:
        for ref in pending:
            ray.cancel(ref)
        if pending:
            ray.wait(pending, num_returns=len(pending), timeout=CANCEL_WAIT_S)
        run.manifest["interrupted"] = True
        raise


def _record(ray: ModuleType, ref: Any, placement: Placement) -> CaseRecord:
    """The case's record from its task, or the failed record of a task that did not end."""
    node, case = placement.node, placement.case
    assert node is not None
    where = {"node_id": node.id, "node": node.name, "machine": node.machine, "target": case.target}
    errors = ray.exceptions
    try:
        reply = ray.get(ref)
    except errors.RayTaskError as error:  # run_case raised: not the case (its worker's own)
        reason = f"ray task failed on {node.describe()}: {_first_line(error.cause or error)}"
        return case.outcome("failed", reason).with_details(fleet=where)
    except errors.NodeDiedError as error:  # "the node is either dead or unreachable"
        reason = f"node lost ({node.describe()}: {_first_line(error)})"
        return case.outcome("failed", reason).with_details(fleet=where)
    except (
        errors.TaskUnschedulableError,
        errors.WorkerCrashedError,
        errors.LocalRayletDiedError,
        errors.ObjectLostError,
    ) as error:
        return case.outcome("failed", _lost_reason(ray, node, error)).with_details(fleet=where)
    record = CaseRecord.from_json(reply["record"])
    return record.with_details(fleet={**where, **reply["fleet"]})


def _lost_reason(ray: ModuleType, node: Node, error: Exception) -> str:
    """'node lost (...)' when Ray's node table says the node died; else what Ray said."""
    deadline = time.monotonic() + DEATH_WAIT_S
    while time.monotonic() < deadline:
        if node.id in dead_node_ids(ray):
            return f"node lost ({node.describe()}: {_first_line(error)})"
        time.sleep(0.5)
    return f"ray {type(error).__name__} on {node.describe()}: {_first_line(error)}"


def _first_line(error: BaseException) -> str:
    """The first sentence of what Ray said (its messages run on with advice)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.split(". ")[0].rstrip(".")


def _close_manifest(ray: ModuleType, run: FleetRun, out_dir: Path) -> None:
    """The manifest as the run ended: each case's line, the nodes lost."""
    run.manifest["cases"] = [case_line(p, run.records.get(p.index)) for p in run.placements]
    run.manifest["unplaced"] = [r.to_json() for r in run.unplaced]
    dead = dead_node_ids(ray) if ray.is_initialized() else set()
    run.manifest["lost_nodes"] = [n.describe() for n in run.nodes if n.id in dead]
    save_manifest(run.manifest, out_dir, run.manifest_path)
