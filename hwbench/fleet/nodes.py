"""The live nodes of the cluster, each probed where it runs: its hwbench version (checked
against the head's first, by a function Ray sends by value, so a node with another hwbench or
none still answers), then its environment fingerprint and the suite's devices as it sees them.

Ray's node table (`ray.nodes()`: NodeID, NodeName, Alive, Resources) says what a node has;
each probe is a task pinned to its node with NodeAffinitySchedulingStrategy(soft=False) and
num_cpus=0, so it runs even beside a busy node's work.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

import hwbench
from hwbench.errors import UsageError

if TYPE_CHECKING:
    from hwbench.config import Suite

PROBE_TIMEOUT_S = 300.0  # a node's first task starts a Ray worker and imports hwbench and torch


@dataclass(frozen=True)
class Node:
    """A live node: Ray's id, name and resources, the folder its results go to, and what the
    probe found there."""

    id: str
    name: str
    resources: dict[str, float]
    machine: str = ""
    environment: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, Any] = field(default_factory=dict)

    def has(self, resource: str) -> bool:
        return self.resources.get(resource, 0) > 0

    def answers_to(self, name: str) -> bool:
        """Whether `node=name` pins this node: its Ray name, its machine folder or its id (a
        prefix of 6 or more hex digits)."""
        by_id = len(name) >= 6 and self.id.startswith(name)
        return name in (self.name, self.machine) or by_id

    def describe(self) -> str:
        return f"{self.machine or self.name} ({self.id[:8]})"


def live_nodes(ray: ModuleType) -> list[Node]:
    """The nodes Ray lists as alive, in its order."""
    return [
        Node(n["NodeID"], n.get("NodeName") or n["NodeManagerAddress"], dict(n["Resources"]))
        for n in ray.nodes()
        if n["Alive"]
    ]


def dead_node_ids(ray: ModuleType) -> set[str]:
    return {n["NodeID"] for n in ray.nodes() if not n["Alive"]}


def version_probe() -> Callable[[], str]:
    """A function that reports the hwbench a node imports. Made here, not at module level, so
    that cloudpickle sends its code by value: a node without this hwbench can still run it."""

    def probe() -> str:
        try:
            import hwbench as there
        except ImportError as error:
            return f"none ({error})"
        return str(getattr(there, "__version__", "unknown"))

    return probe


def node_facts(suite: Suite) -> dict[str, Any]:
    """On a node: its environment fingerprint and the status of each device `suite` names."""
    from hwbench.execution.runner import device_status
    from hwbench.results.env import fingerprint

    return {"environment": fingerprint(), "devices": device_status(suite)}


def on_each(ray: ModuleType, nodes: list[Node], function: Callable, *args: Any) -> list:
    """`function(*args)` run once on each node, pinned there; the results in node order.
    UsageError naming a node that fails or does not answer in PROBE_TIMEOUT_S."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(function)
    refs = [
        remote.options(
            num_cpus=0,
            max_retries=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node.id, soft=False),
        ).remote(*args)
        for node in nodes
    ]
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    results = []
    for node, ref in zip(nodes, refs, strict=True):
        try:
            results.append(ray.get(ref, timeout=max(0.0, deadline - time.monotonic())))
        except ray.exceptions.GetTimeoutError:
            late = f"node {node.describe()} did not answer in {PROBE_TIMEOUT_S:.0f} s"
            raise UsageError(late) from None
        except ray.exceptions.RayError as error:
            what = str(error).strip().splitlines()[-1] if str(error).strip() else type(error)
            raise UsageError(f"node {node.describe()} cannot run hwbench: {what}") from None
    return results


def check_versions(nodes: list[Node], versions: list[str]) -> None:
    """UsageError naming every node whose hwbench is not the head's."""
    wrong = [f"{n.describe()} has hwbench {v}" for n, v in zip(nodes, versions, strict=True)
             if v != hwbench.__version__]  # fmt: skip
    if wrong:
        raise UsageError(
            f"this head runs hwbench {hwbench.__version__}, but node {'; node '.join(wrong)}: "
            "install the same hwbench on every node"
        )


def machine_names(nodes: list[Node]) -> list[str]:
    """A result folder per node: its Ray node name (`ray start --node-name`), else its host
    name; a name two nodes share gets the node id's first 8 digits."""
    names = []
    for node in nodes:
        own = node.environment.get("host", "") if _is_ip(node.name) else node.name
        names.append(_folder(own) or node.id[:8])
    return [
        f"{name}-{node.id[:8]}" if names.count(name) > 1 else name
        for name, node in zip(names, nodes, strict=True)
    ]


def _is_ip(name: str) -> bool:
    """Whether a node's name is its address (Ray's default name), not one a user gave it."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _folder(name: str) -> str:
    """`name` made folder-safe, as hwbench.machine makes a host name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    return cleaned if cleaned.strip(".") else ""


def probe_nodes(ray: ModuleType, suite: Suite) -> list[Node]:
    """Every live node, version-checked, with its environment, devices and machine folder."""
    nodes = live_nodes(ray)
    if not nodes:
        raise UsageError("the Ray cluster has no live node")
    check_versions(nodes, on_each(ray, nodes, version_probe()))
    facts = on_each(ray, nodes, node_facts, suite)
    nodes = [replace(n, **f) for n, f in zip(nodes, facts, strict=True)]
    return [replace(n, machine=m) for n, m in zip(nodes, machine_names(nodes), strict=True)]
