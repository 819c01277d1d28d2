"""A check's result: what was found and, unless it passed, how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"
# info: an optional part is absent; warn: works, with a caveat; fail: the device is not ready.


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # OK, INFO, WARN or FAIL
    found: str
    fix: str = ""


def passed(check: str, found: str) -> Finding:
    return Finding(check, OK, found)


def info(check: str, found: str, fix: str = "") -> Finding:
    return Finding(check, INFO, found, fix)


def warn(check: str, found: str, fix: str) -> Finding:
    return Finding(check, WARN, found, fix)


def fail(check: str, found: str, fix: str) -> Finding:
    return Finding(check, FAIL, found, fix)


def ready(findings: Iterable[Finding]) -> bool:
    """A device is ready when none of its checks failed."""
    return all(finding.status != FAIL for finding in findings)
