"""Which torch and CANN each torch_npu release was made for.

Source: github.com/Ascend/pytorch, COMPATIBILITY.en.md ("TorchNPU version mapping table" and
its historical table, torch 2.x rows), master at commit b48e648 of 2026-08-20, read here on
2026-12-03. Every row pairs torch_npu X.Y.Z[.postN] with torch X.Y.Z, which the wheels pin
too (torch_npu 2.13.0's METADATA: `Requires-Dist: torch==2.13.0.*`). torch_npu 2.13.0 and
2.14.0 are on PyPI but not in the table yet: their torch is known, their CANN is not.
"""

from __future__ import annotations

from hwbench.doctor.versions import base, same_cann

TABLE_SOURCE = "Ascend/pytorch COMPATIBILITY.en.md of 2026-08-20"

# (torch_npu, torch, CANN), newest first as the table lists them
RELEASES: tuple[tuple[str, str, str], ...] = (
    ("2.12.0", "2.12.0", "9.1.0"),
    ("2.11.0", "2.11.0", "9.1.0"),
    ("2.10.0.post4", "2.10.0", "9.1.0"),
    ("2.9.0.post6", "2.9.0", "9.1.0"),
    ("2.7.1.post8", "2.7.1", "9.1.0"),
    ("2.9.0.post2", "2.9.0", "9.0.0"),
    ("2.8.0.post4", "2.8.0", "9.0.0"),
    ("2.7.1.post4", "2.7.1", "9.0.0"),
    ("2.9.0", "2.9.0", "8.5.0"),
    ("2.8.0.post2", "2.8.0", "8.5.0"),
    ("2.7.1.post2", "2.7.1", "8.5.0"),
    ("2.6.0.post5", "2.6.0", "8.5.0"),
    ("2.8.0", "2.8.0", "8.3.RC1"),
    ("2.7.1", "2.7.1", "8.3.RC1"),
    ("2.6.0.post3", "2.6.0", "8.3.RC1"),
    ("2.1.0.post17", "2.1.0", "8.3.RC1"),
    ("2.6.0", "2.6.0", "8.2.RC1"),
    ("2.5.1.post1", "2.5.1", "8.2.RC1"),
    ("2.1.0.post13", "2.1.0", "8.2.RC1"),
    ("2.5.1", "2.5.1", "8.1.RC1"),
    ("2.4.0.post4", "2.4.0", "8.1.RC1"),
    ("2.3.1.post6", "2.3.1", "8.1.RC1"),
    ("2.1.0.post12", "2.1.0", "8.1.RC1"),
    ("2.4.0.post2", "2.4.0", "8.0.0"),
    ("2.3.1.post4", "2.3.1", "8.0.0"),
    ("2.1.0.post10", "2.1.0", "8.0.0"),
    # historical (end of life)
    ("2.4.0", "2.4.0", "8.0.RC3"),
    ("2.3.1.post2", "2.3.1", "8.0.RC3"),
    ("2.1.0.post8", "2.1.0", "8.0.RC3"),
    ("2.3.1", "2.3.1", "8.0.RC2"),
    ("2.2.0.post2", "2.2.0", "8.0.RC2"),
    ("2.1.0.post6", "2.1.0", "8.0.RC2"),
    ("2.2.0", "2.2.0", "8.0.RC1"),
    ("2.1.0.post4", "2.1.0", "8.0.RC1"),
    ("2.1.0", "2.1.0", "7.0.0"),
    ("2.0.1.post1", "2.0.1", "7.0.0"),
    ("2.1.0.rc1", "2.1.0", "7.0.RC1"),
    ("2.0.1", "2.0.1", "7.0.RC1"),
    ("2.0.1.rc1", "2.0.1", "6.3.RC2"),
)


def cann_for(torch_npu: str) -> str | None:
    """The CANN the table pairs with this torch_npu release, None when it is not listed."""
    return next((cann for npu, _, cann in RELEASES if npu == torch_npu.strip()), None)


def releases_for(torch: str, cann: str | None = None) -> list[str]:
    """torch_npu releases made for this torch (and this CANN, when given), newest first."""
    return [
        npu
        for npu, made_for, paired in RELEASES
        if made_for == base(torch) and (cann is None or same_cann(paired, cann))
    ]


def canns_for(torch_npu_releases: list[str]) -> list[str]:
    """The CANN versions of these releases, in table order, each once."""
    found = [cann_for(npu) for npu in torch_npu_releases]
    return list(dict.fromkeys(cann for cann in found if cann))
