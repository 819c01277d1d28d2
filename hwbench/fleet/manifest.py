"""The manifest of a fleet run (results/fleet/<timestamp>-<suite>.json): the cluster's nodes
and their machine folders, each machine's result file, where each case ran and how it ended,
the cases no node could run (kept here, as no machine's file holds them), the nodes lost, and
whether the run was interrupted. Written atomically at the start and after the run; readers
of result folders leave it out ("a hwbench-fleet-run file, not results")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hwbench
from hwbench.fleet.nodes import Node
from hwbench.fleet.placement import Placement
from hwbench.results import files, store
from hwbench.results.record import CaseRecord

SCHEMA = "hwbench-fleet-run"
SCHEMA_VERSION = 1
FOLDER = "fleet"


def new_manifest(suite: str, address: str, nodes: list[Node]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "suite": suite,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "hwbench": hwbench.__version__,
        "ray_address": address,
        "nodes": [node_line(n) for n in nodes],
        "files": {},
        "cases": [],
        "unplaced": [],
        "lost_nodes": [],
        "interrupted": False,
    }


def node_line(node: Node) -> dict[str, Any]:
    host = node.environment.get("host")
    return {"id": node.id, "name": node.name, "machine": node.machine, "host": host,
            "resources": node.resources}  # fmt: skip


def case_line(placement: Placement, record: CaseRecord | None) -> dict[str, Any]:
    """Where a case ran and how it ended (None: it did not finish)."""
    node = placement.node
    return {
        "label": placement.case.label(),
        "machine": node.machine if node else None,
        "node_id": node.id if node else None,
        "status": record.status if record else "unfinished",
        "reason": record.reason if record else "",
    }


def save_manifest(manifest: dict[str, Any], out_dir: Path, path: Path | None = None) -> Path:
    """Write the manifest: at a new free name the first time, over `path` after."""
    text = json.dumps(manifest, indent=1, allow_nan=False)
    if path is None:
        stem = store.result_path(out_dir, FOLDER, manifest["suite"]).stem
        return files.write_new(out_dir / FOLDER, stem, text)
    files.write_text(path, text)
    return path
