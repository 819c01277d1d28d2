"""One result file per machine (results/<machine>/<timestamp>-<suite>.json, the schema of a
local run), written by the head with the store's atomic writer after each case arrives, so
that a case finished on any node is never lost. Each file holds its node's environment
fingerprint and device status, as the node reported them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from hwbench.analysis.noise import run_noise, unstable_reason
from hwbench.config import Suite
from hwbench.execution.runner import _suite_json
from hwbench.fleet.nodes import Node
from hwbench.fleet.placement import Placement
from hwbench.results import store
from hwbench.results.files import check_writable
from hwbench.results.record import CaseRecord


class MachineFiles:
    """The result documents of the nodes that got cases, each kept in the suite's order."""

    def __init__(
        self, suite: Suite, out_dir: Path, placements: list[Placement], address: str
    ) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, Path] = {}
        self.slots: dict[str, list[CaseRecord | None]] = {}
        self.position: dict[int, int] = {}  # a case's index in the suite -> its slot
        placed = [p for p in placements if p.node is not None]
        for node in {p.node.id: p.node for p in placed if p.node}.values():
            check_writable(out_dir / node.machine)
        for placement in placed:
            assert placement.node is not None
            slots = self.slots.setdefault(placement.node.machine, [])
            self.position[placement.index] = len(slots)
            slots.append(None)
        for node in {p.node.id: p.node for p in placed if p.node}.values():
            self._create(suite, out_dir, node, address)

    def _create(self, suite: Suite, out_dir: Path, node: Node, address: str) -> None:
        fleet = {"node_id": node.id, "node": node.name, "ray_address": address,
                 "resources": node.resources}  # fmt: skip
        config = {"suite": _suite_json(suite), "cases": len(self.slots[node.machine]),
                  "fleet": fleet}  # fmt: skip
        document = store.new_results(suite.name, node.machine, node.environment, config)
        document["devices"] = node.devices
        path = store.result_path(out_dir, node.machine, suite.name)
        self.documents[node.machine] = document
        self.paths[node.machine] = store.save_new(document, path)

    def add(self, placement: Placement, record: CaseRecord) -> CaseRecord:
        """Keep a finished case in its machine's file (saved now); the record as kept."""
        assert placement.node is not None
        machine = placement.node.machine
        record = replace(record, unstable=unstable_reason(record))
        self.slots[machine][self.position[placement.index]] = record
        document = self.documents[machine]
        document["cases"] = [r for r in self.slots[machine] if r is not None]
        store.save(document, self.paths[machine])
        return record

    def finish(self) -> None:
        """Each file's A/A noise, as a local run adds it at its end."""
        for machine, document in self.documents.items():
            noise = run_noise(document["cases"])
            if noise is not None:
                document["noise"] = noise
                store.save(document, self.paths[machine])

    def named(self) -> list[tuple[str, dict[str, Any]]]:
        """(file stem, document) of each machine, as the comparison reads result files."""
        return [(f"{m}/{self.paths[m].stem}", d) for m, d in self.documents.items()]
