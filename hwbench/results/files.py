"""Writing output files (results, reports, exports): atomically, onto nothing but a regular
file, with the mode the umask gives, and a new result never onto an existing one."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from hwbench.errors import SaveError, UsageError


def check_output(path: Path) -> None:
    """UsageError unless an output file may be written at `path`: nothing there yet, or a
    regular file (replaced whole). A symbolic link is refused, not followed: replacing it would
    cut the link, and writing through it would change a file elsewhere."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    if stat.S_ISLNK(found.st_mode):
        raise UsageError(f"{path} is a symbolic link; give the path of a file to write")
    if not stat.S_ISREG(found.st_mode):
        kind = "a directory" if stat.S_ISDIR(found.st_mode) else "not a regular file"
        raise UsageError(f"{path} is {kind}; hwbench writes only regular files")


def check_writable(directory: Path) -> None:
    """UsageError unless files can be made in `directory` (made here if need be): checked
    before a run measures anything, so that nothing measured is lost to a folder it cannot
    save into."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise UsageError(f"cannot write results to {directory}: {error.strerror}") from None


def write_text(path: Path, text: str, new: bool = False) -> None:
    """Write `text` to `path` atomically: a reader sees the old file or the new one, never a
    part. `new`: FileExistsError when `path` exists (a result is never overwritten). SaveError
    (one line) when the write fails, as on a full disk."""
    path = Path(path)
    check_output(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise SaveError(path, error) from None
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode(path))
        if new:
            os.link(tmp, path)  # fails if `path` exists, where os.replace would overwrite it
        else:
            os.replace(tmp, path)
    except FileExistsError:
        raise
    except OSError as error:
        raise SaveError(path, error) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_new(directory: Path, stem: str, text: str, suffix: str = ".json") -> Path:
    """Write `text` to a file of `directory` named `stem` + `suffix`, or, when that name is
    taken (another run in the same second), `stem-2`, `stem-3`, ...; the path written."""
    for number in range(1, 10_000):
        path = directory / (f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}")
        try:
            write_text(path, text, new=True)
            return path
        except FileExistsError:
            continue
    raise SaveError(directory / f"{stem}{suffix}", FileExistsError(17, "every name is taken"))


def _mode(path: Path) -> int:
    """The mode of the file being replaced, else what the umask leaves of 0o666."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
