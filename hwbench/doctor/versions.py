"""Version strings as the vendors write them: "2.13.0+cpu", "2.1.0.post17", "570.124.06",
"24.1.RC2", CANN's "8.3.RC1"."""

from __future__ import annotations

import re

RELEASE = re.compile(r"\d+(?:\.\d+)*")


def numbers(version: str) -> tuple[int, ...]:
    """The leading dotted numbers: "570.124.06" -> (570, 124, 6), "2.1.0.post17" -> (2, 1, 0)."""
    match = RELEASE.match(version.strip())
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def base(version: str) -> str:
    """major.minor.patch: "2.13.0+cpu" -> "2.13.0", "2.1.0.post17" -> "2.1.0"."""
    return ".".join(str(part) for part in (*numbers(version), 0, 0, 0)[:3])


def at_least(version: str, floor: str) -> bool:
    """Numeric comparison of dotted versions (driver versions: "570.26" >= "525.60.13")."""
    return numbers(version) >= numbers(floor)


def same_cann(a: str, b: str) -> bool:
    """CANN versions compare as written, case aside ("8.3.RC1" == "8.3.rc1")."""
    return a.strip().upper() == b.strip().upper()
