"""Which node runs each case: one that has the Ray resources its target needs (and answers to
its node= pin), the least loaded of those so far; none: the case is skipped, saying why.

Resources by device: Ray's built-in GPU for cuda, NPU for npu (Ray's own name for Ascend
chips: ray/_private/accelerators/npu.py detects them from /dev/davinci* and sets
ASCEND_RT_VISIBLE_DEVICES for a task that takes one; `ray start --resources '{"NPU": 8}'`
declares them by hand), CPU for the rest. A target's resource= option adds one of the
cluster's custom resources (a kind of machine: `ray start --resources '{"avx512": 1}'`).

A case's task takes every CPU its node has (and one of each accelerator it needs), so Ray runs
a node's cases one at a time, a case never sharing its chip or cores with another, while
different nodes run theirs in parallel. A node without CPUs (a head started with
`--num-cpus 0`) therefore runs no case.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hwbench.case import Case
from hwbench.config import Target
from hwbench.fleet.nodes import Node

DEVICE_RESOURCES = {"cuda": "GPU", "npu": "NPU"}
CPU = "CPU"


@dataclass(frozen=True)
class Placement:
    """A case (at `index` in the suite's order) and its node, or why no node can run it."""

    index: int
    case: Case
    node: Node | None
    reason: str = ""


def needs(target: Target) -> tuple[str, ...]:
    """The Ray resources a node must have to run `target`'s cases."""
    own = DEVICE_RESOURCES.get(target.device, CPU)
    extra = dict(target.options).get("resource")
    return tuple(dict.fromkeys(r for r in (own, extra) if r))


def task_resources(target: Target, node: Node) -> dict[str, Any]:
    """The options of a case's Ray task on `node`: all its CPUs, one of each other resource
    the target needs (a fraction where the node has less)."""
    extra = {r: min(1.0, node.resources[r]) for r in needs(target) if r != CPU}
    gpus = extra.pop("GPU", 0)  # Ray takes GPUs as num_gpus, not in `resources`
    return {"num_cpus": node.resources[CPU], "num_gpus": gpus, "resources": extra}


def place(cases: Sequence[Case], nodes: Sequence[Node]) -> list[Placement]:
    """A placement for each case, in order."""
    load: Counter[str] = Counter()
    placements = []
    for index, case in enumerate(cases):
        node, reason = choose(case.parsed_target, nodes, load)
        if node is not None:
            load[node.id] += 1
        placements.append(Placement(index, case, node, reason))
    return placements


def choose(target: Target, nodes: Sequence[Node], load: Counter[str]) -> tuple[Node | None, str]:
    """The node for one of `target`'s cases, or None and why none can run it."""
    pin = dict(target.options).get("node")
    if pin is not None:
        nodes = [n for n in nodes if n.answers_to(pin)]
        if not nodes:
            return None, f"no node named {pin}"
    where = f" named {pin}" if pin else ""
    wanted = needs(target)
    for resource in wanted:
        if not any(n.has(resource) for n in nodes):
            return None, f"no node{where} has resource {resource}"
    able = [n for n in nodes if all(n.has(r) for r in wanted)]
    if not able:
        return None, f"no node{where} has resources {' and '.join(wanted)} together"
    runnable = [n for n in able if n.has(CPU)]
    if not runnable:
        return None, f"no node{where} with resource {wanted[0]} has a CPU to run a case on"
    return min(runnable, key=lambda n: load[n.id]), ""
