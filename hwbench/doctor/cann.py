"""The CANN toolkit: installed, its set_env.sh sourced, and its version paired with torch_npu.

Sources: CANN 8.0.0's ascend-toolkit/set_env.sh exports ASCEND_TOOLKIT_HOME=<install>/
ascend-toolkit/latest, ASCEND_HOME_PATH=${ASCEND_TOOLKIT_HOME}, ASCEND_OPP_PATH=
${ASCEND_TOOLKIT_HOME}/opp and puts ${ASCEND_TOOLKIT_HOME}/lib64 on LD_LIBRARY_PATH; the
default install is /usr/local/Ascend (root) or $HOME/Ascend, sourced as in Ascend/pytorch's
README ("Prerequisites": `source /usr/local/Ascend/ascend-toolkit/set_env.sh`); CANN 8.5 and
later install to <install>/cann with cann/set_env.sh (MindSpeed-LLM's install guide,
docs/mindspore/install_guide.md). When it loads, torch_npu refuses a missing ASCEND_HOME_PATH
or ASCEND_OPP_PATH and only warns when the CANN does not match it (torch_npu 2.13.0,
torch_npu/_init/registry/registry_manager.py, _cann_package_check). The version: `version=` in
<toolkit>/<arch>-linux/ascend_toolkit_install.info (what Ascend's install guides `cat` to
check CANN; torch_npu/utils/collect_env.py get_cann_version reads the same), else
`toolkit_installed_version=[<inner version>:<CANN version>]` in <toolkit>/version.cfg.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from hwbench.doctor.finding import Finding, fail, passed, warn
from hwbench.doctor.host import Host
from hwbench.doctor.torch_npu_table import TABLE_SOURCE, cann_for, canns_for, releases_for
from hwbench.doctor.versions import same_cann

HOME_VARIABLES = ("ASCEND_HOME_PATH", "ASCEND_TOOLKIT_HOME")
DEFAULT_TOOLKITS = ("/usr/local/Ascend/ascend-toolkit/latest", "/usr/local/Ascend/cann")
HOME_TOOLKITS = ("Ascend/ascend-toolkit/latest", "Ascend/cann")
INSTALL = (
    "install the CANN toolkit and the ops package for your chip "
    "(Ascend-cann-toolkit_<version>_linux-<arch>.run --install; https://www.hiascend.com/cann)"
)
CFG_VERSION = re.compile(r"toolkit_installed_version=\[[^\]:]*:([^\]]+)\]")


def sourced_home(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(variable, value) of the toolkit a sourced set_env.sh named, None when none did."""
    return next(((name, env[name]) for name in HOME_VARIABLES if env.get(name)), None)


def default_toolkits(host: Host) -> list[Path]:
    """The default install paths, root's then $HOME's."""
    home = host.home()
    found = [host.path(path) for path in DEFAULT_TOOLKITS]
    return found + ([home / path for path in HOME_TOOLKITS] if home else [])


def find_toolkit(host: Host) -> Path | None:
    """The toolkit in use: the sourced one where it exists, else one at a default path."""
    sourced = sourced_home(host.env)
    if sourced and Path(sourced[1]).is_dir():
        return Path(sourced[1])
    return next((path for path in default_toolkits(host) if path.is_dir()), None)


def set_env_script(toolkit: Path) -> Path:
    """The set_env.sh that exports `toolkit`: ascend-toolkit/set_env.sh beside `latest`, or
    cann/set_env.sh inside the toolkit."""
    beside, inside = toolkit.parent / "set_env.sh", toolkit / "set_env.sh"
    return inside if inside.is_file() and not beside.is_file() else beside


def cann_version(toolkit: Path) -> str | None:
    """The toolkit's CANN version from its install info, else from version.cfg."""
    for info in sorted(toolkit.glob("*-linux/ascend_toolkit_install.info")):
        for line in read(info).splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "version" and value.strip():
                return value.strip()
    match = CFG_VERSION.search(read(toolkit / "version.cfg"))
    return match.group(1).strip() if match else None


def read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:  # absent or unreadable: no version from this file
        return ""


def paired_cann(torch_npu: str | None, torch: str | None) -> str:
    """Which CANN to install, as the table says, for the fixes."""
    if torch_npu and (cann := cann_for(torch_npu)):
        return f"CANN {cann}, the one torch_npu {torch_npu} was released for"
    if torch and (canns := canns_for(releases_for(torch))):
        return f"for torch {torch} {TABLE_SOURCE} lists CANN {', '.join(canns)}"
    return f"the CANN your torch_npu release is made for ({TABLE_SOURCE} lists the pairs)"


def check_toolkit(host: Host, toolkit: Path | None, advice: str) -> Finding:
    sourced = sourced_home(host.env)
    if sourced and not Path(sourced[1]).is_dir():
        return fail(
            "CANN toolkit",
            f"{sourced[0]}={sourced[1]} does not exist (torch_npu refuses to load)",
            f"source the set_env.sh of an installed toolkit, or unset {sourced[0]}",
        )
    if toolkit is None:
        looked = ", ".join(str(path) for path in default_toolkits(host))
        return fail(
            "CANN toolkit",
            f"no CANN toolkit: ASCEND_HOME_PATH is unset and none is at {looked}",
            f"{INSTALL}; {advice}",
        )
    return passed("CANN toolkit", str(toolkit))


def check_environment(env: Mapping[str, str], toolkit: Path) -> Finding:
    """set_env.sh sourced: ASCEND_HOME_PATH, its lib64 on LD_LIBRARY_PATH, ASCEND_OPP_PATH."""
    script = set_env_script(toolkit)
    sourced = sourced_home(env)
    if sourced is None:
        return fail(
            "CANN environment",
            f"{script} is not sourced: ASCEND_HOME_PATH is unset",
            f"source {script} (and add that line to ~/.bashrc)",
        )
    lib64 = os.path.normpath(Path(sourced[1]) / "lib64")
    entries = {os.path.normpath(entry) for entry in env.get("LD_LIBRARY_PATH", "").split(":")}
    if lib64 not in entries:
        return fail(
            "CANN environment",
            f"{sourced[0]}={sourced[1]} but LD_LIBRARY_PATH lacks {lib64}",
            f"source {script}: it puts {lib64} on LD_LIBRARY_PATH",
        )
    opp = env.get("ASCEND_OPP_PATH")
    if not opp or not Path(opp).is_dir():
        return fail(
            "CANN environment",
            f"ASCEND_OPP_PATH={opp or '(unset)'}: torch_npu refuses to load without it",
            f"source {script}; if it is sourced, install the ops package for your chip",
        )
    return passed("CANN environment", f"{sourced[0]}={sourced[1]}, {lib64} on LD_LIBRARY_PATH")


def check_version(
    version: str | None, toolkit: Path, torch_npu: str | None, torch: str | None
) -> Finding:
    """The toolkit's CANN against the one the table pairs with torch_npu. A warning, not a
    failure: torch_npu itself only warns when they differ."""
    if version is None:
        return warn(
            "CANN version",
            f"no version in {toolkit}/<arch>-linux/ascend_toolkit_install.info or version.cfg",
            f"reinstall the toolkit: {INSTALL}",
        )
    if torch_npu is None:
        return passed("CANN version", f"CANN {version}")
    paired = cann_for(torch_npu)
    if paired is None:
        return warn(
            "CANN version",
            f"CANN {version}; torch_npu {torch_npu} is not in {TABLE_SOURCE}",
            f"check torch_npu {torch_npu}'s release notes for the CANN it needs",
        )
    if same_cann(paired, version):
        return passed("CANN version", f"CANN {version}, the CANN of torch_npu {torch_npu}")
    others = releases_for(torch, version) if torch else []
    instead = f"torch-npu=={others[0]}" if others else "none for this torch in the table"
    return warn(
        "CANN version",
        f"CANN {version}, but torch_npu {torch_npu} was released for CANN {paired}",
        f"install CANN {paired}, or the torch_npu for CANN {version}: {instead}",
    )
