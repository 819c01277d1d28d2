"""The result files a reader was given: files, folders and globs as users keep them.

A folder stands for the JSON files in it; a pattern that names no file (`'results/*/*.json'`,
quoted so the shell leaves it) is expanded here. Files of another kind that hwbench writes
beside results (the peaks file of `hwbench peak`) and, inside folders, anything that is not a
result are left out with a note; a file named on its own that is not JSON, and any file that
says it is results but does not load, is an error."""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwbench.errors import UsageError
from hwbench.port.schema import is_port
from hwbench.reporting.export import is_pytest_benchmark, load_any, read_any
from hwbench.results.store import SCHEMA

Document = tuple[str, dict[str, Any]]  # (name, result document)
PATTERN_CHARACTERS = "*?["


@dataclass
class Inputs:
    """Documents in the order given (a folder's and a pattern's by name) and notes on what
    was left out."""

    documents: list[Document] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ports: list[Document] = field(default_factory=list)  # `hwbench port` documents


def expand(path: Path) -> tuple[list[Path], bool]:
    """The files `path` stands for, and whether it was a folder or pattern (whose non-results
    are skipped) rather than a file named on its own."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file()), True
    text = str(path)
    if not path.exists() and any(c in text for c in PATTERN_CHARACTERS):
        matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
        if not matches:
            raise UsageError(f"{text}: no file matches")
        return [p for p in matches if p.is_file()], True
    return [path], False


def parsed(path: Path) -> Any:
    """The file's JSON, or None when it cannot be read or parsed (left to the loader, which
    says why in one line)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def other_kind(data: Any) -> str | None:
    """What parsed JSON holds when it is a hwbench file but not results (its `schema`), or
    None for results, pytest-benchmark files and anything else (left to the loader)."""
    if not isinstance(data, dict) or is_pytest_benchmark(data):
        return None
    kind = data.get("schema")
    return kind if isinstance(kind, str) and kind != SCHEMA and kind.startswith("hwbench") else None


def claims_results(data: Any) -> bool:
    """Whether parsed JSON says it is results (hwbench's schema, or pytest-benchmark's
    fields): such a file that does not load is an error even in a folder, never left out."""
    if is_pytest_benchmark(data):
        return True
    return isinstance(data, dict) and data.get("schema") == SCHEMA


def read_inputs(paths: list[Path]) -> Inputs:
    """Every result document among `paths`, named by file stem; UsageError when none is left."""
    loaded: list[tuple[Path, dict[str, Any]]] = []
    ports: list[tuple[Path, dict[str, Any]]] = []
    notes: list[str] = []
    for given in paths:
        expanded, listed = expand(given)
        for path in expanded:
            data = parsed(path)  # read once: to sort the file out, then to load it
            if is_port(data):
                ports.append((path, data))
                continue
            kind = other_kind(data)
            if kind is not None:
                notes.append(f"left out {path}: a {kind} file, not results")
                continue
            try:
                document = load_any(path) if data is None else read_any(data, str(path))
                loaded.append((path, document))
            except UsageError as error:
                if not listed or claims_results(data):
                    raise
                notes.append(f"left out {path}: {error}")
    if not loaded:
        raise UsageError(f"no result file in {', '.join(map(str, paths))}")
    named = [list(zip(unique_names([p for p, _ in docs]), (d for _, d in docs), strict=True))
             for docs in (loaded, ports)]  # fmt: skip
    return Inputs(named[0], notes, named[1])


def unique_names(paths: list[Path]) -> list[str]:
    """File stems, with #2, #3... on repeats."""
    names: list[str] = []
    for path in paths:
        repeats = sum(name.split("#")[0] == path.stem for name in names)
        names.append(path.stem + (f"#{repeats + 1}" if repeats else ""))
    return names
