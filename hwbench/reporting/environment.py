"""The report's environment: one table of (field, value) per machine, however many of its files
were given; where those files disagree on a field, each value with the files it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Docs = list[tuple[str, dict[str, Any]]]  # (name, result document)
Values = list[tuple[str, list[str]]]  # (value, the files that hold it), in file order
Getter = Callable[[dict[str, Any]], str | None]  # a document's value (None: not recorded)


def _env(field: str) -> Getter:
    return lambda doc: _text(doc.get("environment", {}).get(field))


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _cores(doc: dict[str, Any]) -> str | None:
    env = doc.get("environment", {})
    return f"{env.get('physical_cores')} / {env.get('logical_cores')}" if env else None


def _memory(doc: dict[str, Any]) -> str | None:
    total = doc.get("environment", {}).get("memory_bytes")
    return None if total is None else f"{total / 2**30:.0f} GiB"


def _commit(doc: dict[str, Any]) -> str | None:
    git = doc.get("environment", {}).get("git") or {}
    commit = git.get("commit")
    return None if commit is None else commit + (" (dirty)" if git.get("dirty") else "")


def _load(doc: dict[str, Any]) -> str | None:
    load = doc.get("environment", {}).get("load_average")
    return None if not load else ", ".join(f"{x:.2f}" for x in load)


FIELDS: tuple[tuple[str, Getter], ...] = (
    ("host", _env("host")),
    ("CPU", _env("cpu")),
    ("architecture", _env("arch")),
    ("cores (physical / logical)", _cores),
    ("memory", _memory),
    ("OS", _env("os")),
    ("Python", _env("python")),
    ("hwbench", _env("hwbench")),
    ("hwbench commit", _commit),
    ("load average at start (1, 5, 15 min)", _load),
)
SHOWN = {"host", "cpu", "arch", "physical_cores", "logical_cores", "memory_bytes", "os",
         "python", "hwbench", "git", "load_average", "packages"}  # fmt: skip


@dataclass(frozen=True)
class MachineEnvironment:
    """A machine's files (with when each was created), its fields and its packages."""

    machine: str
    files: list[tuple[str, str]]  # (name, created)
    rows: list[tuple[str, Values]]
    packages: list[tuple[str, Values]]  # installed in at least one of the files
    missing: list[str]  # looked for and installed in none


def values(documents: Docs, get: Getter) -> Values:
    """What `get` finds in each document, the files grouped by value."""
    grouped: dict[str, list[str]] = {}
    for name, document in documents:
        value = get(document)
        if value is not None:
            grouped.setdefault(value, []).append(name)
    return list(grouped.items())


def _device(name: str) -> Getter:
    def get(doc: dict[str, Any]) -> str | None:
        state = (doc.get("devices") or {}).get(name)
        if state is None:
            return None
        if not state.get("available"):
            return f"unavailable: {state.get('reason')}"
        info = state.get("info") or {}
        return "; ".join(["available", *(f"{k} {v}" for k, v in info.items() if v is not None)])

    return get


def getters(documents: Docs) -> list[tuple[str, Getter]]:
    """The fields to show: FIELDS, every device, then environment entries FIELDS lacks."""
    devices = dict.fromkeys(d for _, doc in documents for d in doc.get("devices") or {})
    others = dict.fromkeys(
        k for _, doc in documents for k in doc.get("environment", {}) if k not in SHOWN
    )
    return [
        *FIELDS,
        *((f"device {d}", _device(d)) for d in devices),
        *((k, _env(k)) for k in others),
    ]


def machine_environment(machine: str, documents: Docs) -> MachineEnvironment:
    """The environment table of one machine's documents."""
    rows = [(field, values(documents, get)) for field, get in getters(documents)]
    names = dict.fromkeys(
        p for _, doc in documents for p in doc.get("environment", {}).get("packages") or {}
    )
    packages = [(p, values(documents, _package(p))) for p in names]
    return MachineEnvironment(
        machine,
        [(name, str(doc.get("created", ""))) for name, doc in documents],
        [(field, found) for field, found in rows if found],
        [(p, found) for p, found in packages if found],
        [p for p, found in packages if not found],
    )


def _package(name: str) -> Getter:
    return lambda doc: _text((doc.get("environment", {}).get("packages") or {}).get(name))


def environments(documents: Docs) -> list[MachineEnvironment]:
    """One environment per machine, in the order the machines first appear."""
    machines: dict[str, Docs] = {}
    for name, document in documents:
        machines.setdefault(str(document.get("machine", "")), []).append((name, document))
    return [machine_environment(m, docs) for m, docs in machines.items()]


def value_lines(found: Values, files: int) -> list[str]:
    """A field's value, or each of its values with the files that hold it when they differ
    (or when only some of the machine's `files` recorded it)."""
    if len(found) == 1 and len(found[0][1]) == files:
        return [found[0][0]]
    return [f"{value} ({', '.join(names)})" for value, names in found]


def table_rows(machine: MachineEnvironment) -> list[tuple[str, list[str]]]:
    """The machine's table: its files (with when each was created), then each field's lines."""
    count = len(machine.files)
    files = [f"{name} (created {created})" for name, created in machine.files]
    return [("files", files), *((f, value_lines(v, count)) for f, v in machine.rows)]


def package_rows(machine: MachineEnvironment) -> list[tuple[str, list[str]]]:
    """Each installed package's version lines, then the packages installed nowhere."""
    count = len(machine.files)
    rows = [(p, value_lines(v, count)) for p, v in machine.packages]
    return rows + ([("not installed", [", ".join(machine.missing)])] if machine.missing else [])
