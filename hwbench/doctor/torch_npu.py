"""torch_npu: installed, loading, and made for the installed torch (torch_npu_table.py).

Loading goes through hwbench's npu device (backends/npu.py `Npu.available`), which imports
torch_npu itself and turns a failed import into its reason: a torch_npu wheel installed
without CANN fails with "ImportError: libhccl.so: cannot open shared object file"
(tests/e2e/test_half_installed_npu.py shows it). Installing: Ascend/pytorch README,
"Installation" (CANN first, then torch, then torch-npu).
"""

from __future__ import annotations

from hwbench.doctor.finding import Finding, fail, passed
from hwbench.doctor.torch_npu_table import TABLE_SOURCE, releases_for
from hwbench.doctor.versions import base


def install_command(torch: str | None, cann: str | None) -> str:
    """pip's line for the torch_npu made for this torch (and this CANN, where the table says)."""
    if torch is None:
        return "pip install torch-npu"
    listed = releases_for(torch, cann) if cann else []
    if listed:
        return f"pip install torch-npu=={listed[0]}"
    return f"pip install 'torch-npu=={base(torch)}.*'"


def check_installed(torch_npu: str | None, torch: str | None, cann: str | None) -> Finding:
    if torch_npu is not None:
        return passed("torch_npu", f"torch_npu {torch_npu}")
    made_for = f" made for torch {base(torch)}" if torch else ""
    return fail(
        "torch_npu",
        "torch_npu is not installed",
        f"install CANN first (see the CANN rows), then the torch_npu{made_for}: "
        f"{install_command(torch, cann)}",
    )


def check_pairing(torch_npu: str, torch: str | None, cann: str | None) -> Finding:
    """torch_npu X.Y.Z[.postN] runs on torch X.Y.Z only."""
    if torch is not None and base(torch_npu) == base(torch):
        return passed("torch / torch_npu", f"torch {torch} with torch_npu {torch_npu}")
    return fail(
        "torch / torch_npu",
        f"torch_npu {torch_npu} is made for torch {base(torch_npu)}, this is torch {torch}",
        f"pip install torch=={base(torch_npu)} (keeps torch_npu and CANN), or the torch_npu "
        f"made for this torch: {install_command(torch, cann)} ({TABLE_SOURCE})",
    )


def check_loads(seen: tuple[bool, str], set_env: str) -> Finding:
    """hwbench's verdict on the npu device, with what to do about the usual causes."""
    ok, reason = seen
    if ok:
        return passed("torch_npu loads", "torch_npu imports and sees an NPU")
    if ".so" in reason:  # a CANN library missing: libhccl.so, libascendcl.so, ...
        fix = f"CANN's libraries are not found: install CANN, then `source {set_env}`"
    elif "no Ascend NPU visible" in reason:
        fix = "see the driver and visible-devices rows: npu-smi info must list the NPUs"
    else:
        fix = "the other rows name the usual causes (pairing, CANN environment)"
    return fail("torch_npu loads", reason, fix)
