"""A directory cache for exported model files, keyed by a hash of what the export depends on.

An entry is a directory `<root>/<kind>/<key>/` holding the exported files and `manifest.json`
(each file's size and sha256, and the key's parts for people). It is built in a temporary
directory beside it and published with one `os.rename`, so another process sees either no
entry or a whole one. An entry whose files no longer match the manifest is discarded and
built again, and the record says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
CACHE_ENV = "HWBENCH_CACHE_DIR"


@dataclass(frozen=True)
class CacheEntry:
    """A verified entry: its directory, how it was found and the seconds spent building it."""

    directory: Path
    status: str  # "hit", "miss" or "rebuilt (<what was wrong>)"
    build_s: float


def cache_root(kind: str) -> Path:
    """`$HWBENCH_CACHE_DIR/<kind>`, else `$XDG_CACHE_HOME/hwbench/<kind>` (~/.cache by default)."""
    base = os.environ.get(CACHE_ENV)
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        base = Path(xdg) / "hwbench"
    return Path(base) / kind


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hex digest of `parts` (JSON with sorted keys)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def fetch(root: Path, parts: dict[str, Any], build: Callable[[Path], None]) -> CacheEntry:
    """The entry for `parts` under `root`, built by `build(directory)` when absent or corrupt."""
    entry = root / cache_key(parts)
    problem = verify(entry)
    if problem is None:
        return CacheEntry(entry, "hit", 0.0)
    if entry.exists():
        discard(entry)
    start = time.perf_counter()
    publish(build_entry(root, parts, build), entry)
    build_s = time.perf_counter() - start
    status = "miss" if problem == "absent" else f"rebuilt ({problem})"
    return CacheEntry(entry, status, build_s)


def verify(entry: Path) -> str | None:
    """None when every file of `entry` matches its manifest, else what is wrong."""
    try:
        files = listed_files(json.loads((entry / MANIFEST).read_text()))
    except FileNotFoundError:
        return "absent" if not entry.exists() else "no manifest"
    except (OSError, ValueError) as error:
        return f"unreadable manifest: {error}"
    for name, expected in files.items():
        path = entry / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != expected["bytes"]:
            return f"{name} has {path.stat().st_size} bytes, manifest says {expected['bytes']}"
        if file_sha256(path) != expected["sha256"]:
            return f"{name} differs from its sha256 in the manifest"
    return None


def listed_files(manifest: Any) -> dict[str, dict[str, Any]]:
    """The manifest's files by name, each with its `bytes` and `sha256`; ValueError for any
    other shape, for no files, and for a name that is not a plain file name."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        raise ValueError("no files listed")
    for name, facts in files.items():
        if Path(name).name != name or name in (".", ".."):
            raise ValueError(f"{name!r} is not a file name")
        if not isinstance(facts, dict) or not isinstance(facts.get("bytes"), int):
            raise ValueError(f"no size for {name}")
        if not isinstance(facts.get("sha256"), str):
            raise ValueError(f"no sha256 for {name}")
    return files


def build_entry(root: Path, parts: dict[str, Any], build: Callable[[Path], None]) -> Path:
    """A temporary directory beside the entries, filled by `build` and sealed by a manifest."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        build(tmp)
        files = {
            p.name: {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for p in sorted(tmp.iterdir())
            if p.is_file()
        }
        (tmp / MANIFEST).write_text(json.dumps({"files": files, "key": parts}, indent=1))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def publish(tmp: Path, entry: Path) -> None:
    """Rename `tmp` to `entry`; if another process published first, keep its entry."""
    try:
        os.rename(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        problem = verify(entry)
        if problem is not None:
            raise RuntimeError(f"cache entry {entry} could not be written: {problem}") from None


def discard(entry: Path) -> None:
    """Move `entry` out of the way in one rename, then delete it."""
    trash = entry.with_name(f".trash-{entry.name}-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):  # another process discarded it first
        os.rename(entry, trash)
    if trash.is_dir() and not trash.is_symlink():
        shutil.rmtree(trash, ignore_errors=True)
    else:  # a file or a link where the entry should be
        with contextlib.suppress(FileNotFoundError):
            trash.unlink()


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
