"""Where a torch_npu operator list comes from: the installed torch_npu's files (found through
its distribution metadata, never by importing it: torch_npu needs CANN to import), a wheel or
the YAML itself given as a path, or a wheel `pip download` left in hwbench's cache."""

from __future__ import annotations

import re
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from hwbench.errors import UsageError
from hwbench.export_cache import cache_root
from hwbench.port.oplist import OPLIST_PATH, NotAnOpList, OpList, parse

DISTRIBUTION = "torch-npu"
VERSION = re.compile(r"\d+(\.\d+)+((\.post|rc|a|b|\.dev)\d+)*")
UNKNOWN = "unknown"


def cache_dir() -> Path:
    """Where `pip download torch-npu==X --no-deps -d DIR` should leave wheels for hwbench."""
    return cache_root("torch_npu")


def fetch_command(version: str, directory: Path | None = None) -> str:
    """The command that puts torch_npu `version`'s wheel (about 44 MB) in the cache."""
    return f"pip download {DISTRIBUTION}=={version} --no-deps -d {directory or cache_dir()}"


def installed() -> OpList | None:
    """The installed torch_npu's list, or None when torch_npu is not installed."""
    try:
        dist = distribution(DISTRIBUTION)
    except PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(OPLIST_PATH)))
    if not path.is_file():
        raise UsageError(f"torch_npu {dist.version} is installed but {path} is missing")
    return _parsed(path.read_text(), dist.version, f"installed torch_npu ({path})")


def cached(version: str, directory: Path | None = None) -> OpList:
    """The list in the cached wheel of torch_npu `version`; UsageError with the command that
    fetches it when there is none."""
    if not VERSION.fullmatch(version):
        raise UsageError(f"--torch-npu {version!r} is not a version (e.g. 2.13.0)")
    directory = directory or cache_dir()
    wheels = sorted(directory.glob(f"torch_npu-{version}-*.whl"))
    if not wheels:
        raise UsageError(
            f"no torch_npu {version} operator list in {directory}; fetch it with: "
            f"{fetch_command(version, directory)}"
        )
    return from_wheel(wheels[0])


def from_path(path: Path) -> OpList:
    """The list in a wheel (a zip) or in the YAML file itself (--op-list)."""
    if not path.is_file():
        raise UsageError(f"--op-list {path}: No such file")
    if zipfile.is_zipfile(path):
        return from_wheel(path)
    neither = f"--op-list {path} is neither a torch_npu wheel nor its operator YAML"
    try:
        return parse(path.read_text(), UNKNOWN, str(path))
    except (OSError, UnicodeDecodeError, NotAnOpList) as error:
        raise UsageError(f"{neither}: {error}") from None


def from_wheel(path: Path) -> OpList:
    """The list a torch_npu wheel ships, with the version its metadata states."""
    try:
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
            if OPLIST_PATH not in names:
                raise UsageError(f"{path} is not a torch_npu wheel: it has no {OPLIST_PATH}")
            text = wheel.read(OPLIST_PATH).decode()
            version = _wheel_version(wheel, names) or UNKNOWN
    except (zipfile.BadZipFile, OSError) as error:
        raise UsageError(f"{path}: cannot read the wheel ({error})") from None
    return _parsed(text, version, str(path))


def _parsed(text: str, version: str, source: str) -> OpList:
    try:
        return parse(text, version, source)
    except NotAnOpList as error:
        raise UsageError(f"{source}: its {OPLIST_PATH} does not read as one: {error}") from None


def _wheel_version(wheel: zipfile.ZipFile, names: list[str]) -> str | None:
    """`Version:` of the wheel's .dist-info/METADATA."""
    metadata = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
    if metadata is None:
        return None
    for line in wheel.read(metadata).decode(errors="replace").splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return None
