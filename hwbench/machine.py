"""The name of this machine, as result folders (results/<machine>/) are named."""

from __future__ import annotations

import re
import socket

from hwbench.errors import UsageError

NAME = re.compile(r"[A-Za-z0-9._-]+")


def machine_name(override: str | None = None) -> str:
    """A folder name for this machine: the override (--machine), else the host name made
    folder-safe. A folder name, so never '.' or '..', which name other folders."""
    if override is not None:
        if not NAME.fullmatch(override) or set(override) == {"."}:
            raise UsageError(
                f"--machine {override!r} is not a folder name: use letters, digits, '.', '_' "
                "and '-' (not '.' or '..')"
            )
        return override
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", socket.gethostname()).strip("-")
    return cleaned if cleaned.strip(".") else "unknown"
