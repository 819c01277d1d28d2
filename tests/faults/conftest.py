"""The fault-injection suite's fixtures: each test states its row of benchmarks/fault_matrix.txt
(the fault, what was kept, the exit code) through `fault_row`; with $HWBENCH_FAULT_MATRIX set
(benchmarks/fault_matrix.py sets it) every row is appended to that file with the test's outcome."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest

MATRIX_ENV = "HWBENCH_FAULT_MATRIX"  # a JSON-lines file the rows go to


@pytest.fixture
def fault_row(request: pytest.FixtureRequest) -> Callable[..., None]:
    """fault_row(fault, kept, exit_code): this test's row of the fault matrix."""

    def record(fault: str, kept: str, exit_code: int | None) -> None:
        row = {"fault": fault, "kept": kept, "exit": exit_code}
        request.node.user_properties.append(("fault_row", row))

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    outcome = yield
    report = outcome.get_result()
    matrix = os.environ.get(MATRIX_ENV)
    if not matrix or report.when != "call":
        return
    for name, row in item.user_properties:
        if name == "fault_row":
            row = {**row, "test": item.nodeid, "outcome": report.outcome}
            with open(matrix, "a") as handle:
                handle.write(json.dumps(row) + "\n")
