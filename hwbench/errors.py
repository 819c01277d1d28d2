"""Errors that end a command with a one-line message."""

from __future__ import annotations

from pathlib import Path

EXIT_SAVE_FAILED = 74  # sysexits.h EX_IOERR: an output could not be written
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, SIGTERM


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class SaveError(Exception):
    """An output file could not be written (a full disk, a file size limit): printed as one
    line, exit code EXIT_SAVE_FAILED."""

    def __init__(self, path: Path, error: OSError) -> None:
        reason = error.strerror or str(error)
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path


class Terminated(KeyboardInterrupt):
    """SIGTERM (what CI runners and `timeout` send), handled as Ctrl-C is: every finished case
    is kept and workers and temporary folders are cleaned up on the way out."""


def raise_terminated(signum: int, frame: object) -> None:
    """A SIGTERM handler."""
    raise Terminated


def stopped(stop: KeyboardInterrupt) -> tuple[str, int]:
    """What stopped hwbench, as its message says it ("interrupted", "terminated"), and the
    exit code that goes with it."""
    if isinstance(stop, Terminated):
        return "terminated", EXIT_TERMINATED
    return "interrupted", EXIT_INTERRUPTED


def unknown_choice(kind: str, given: str, valid: list[str] | tuple[str, ...]) -> UsageError:
    """An error naming the misspelled choice and every valid one."""
    return UsageError(f"unknown {kind} {given!r}; valid: {', '.join(sorted(valid))}")
