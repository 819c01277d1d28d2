"""The name of this machine, as result folders (results/<machine>/) are named."""

from __future__ import annotations

import re
import socket


def machine_name(override: str | None = None) -> str:
    """A folder-safe name for this machine: the override, else the host name."""
    raw = override or socket.gethostname() or "unknown"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-") or "unknown"
