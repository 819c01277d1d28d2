"""Errors that end a command with a one-line message."""


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def unknown_choice(kind: str, given: str, valid: list[str] | tuple[str, ...]) -> UsageError:
    """An error naming the misspelled choice and every valid one."""
    return UsageError(f"unknown {kind} {given!r}; valid: {', '.join(sorted(valid))}")
