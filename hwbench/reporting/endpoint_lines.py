"""What every table and report says about cases measured through `--endpoint`: the device
under test is the server's, and parity that could not be checked is `not checked`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hwbench.results.record import CaseRecord

NOT_CHECKED = "not checked"
NOT_CONTROLLED = "prompt lengths not controlled"  # hwbench.llm.serve_prompts says so


def parity_cell(parity: dict[str, Any] | None) -> str:
    """The relative L2 error, 'not checked' (never a pass) when it could not be, else ''."""
    if parity and parity.get("checked") is False:
        return NOT_CHECKED
    error = (parity or {}).get("rel_l2")
    return "" if error is None else f"{error:.1e}"


def server_lines(cases: list[CaseRecord]) -> list[str]:
    """One line per server measured through --endpoint: its host, version and model, and
    that it, not the machine the environment describes, is the device under test; and
    whether the prompts' lengths were controlled."""
    seen: dict[str, str] = {}
    for case in cases:
        endpoint = (case.session or {}).get("endpoint")
        if not isinstance(endpoint, dict) or endpoint.get("host") in seen:
            continue
        seen[endpoint["host"]] = (
            f"endpoint@remote: the device under test is the server at {endpoint['host']} "
            f"(version {endpoint.get('server_version')}, model {endpoint.get('model')}), not "
            "the client machine whose environment this run records"
        )
    prompts = {
        str((case.session or {}).get("prompts"))
        for case in cases
        if str((case.session or {}).get("prompts", "")).startswith(NOT_CONTROLLED)
    }
    return list(seen.values()) + sorted(prompts)


def parity_lines(cases: Iterable[CaseRecord]) -> list[str]:
    """Why parity was not checked, once per reason."""
    reasons = {
        case.parity["reason"]
        for case in cases
        if case.parity and case.parity.get("checked") is False
    }
    return [f"parity not checked: {reason}" for reason in sorted(reasons)]
