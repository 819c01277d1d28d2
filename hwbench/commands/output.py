"""Consoles for command output: a terminal's own width, and no wrapping when piped."""

from __future__ import annotations

from rich.console import Console

# Piped output (CI logs, files, pytest) has no width; rich would assume 80 columns and wrap
# table cells and paths mid-word. Tables do not expand, so a wide limit only stops wrapping.
PIPED_WIDTH = 1000


def stdout_console() -> Console:
    """A console on stdout for tables."""
    console = Console()
    return console if console.is_terminal else Console(width=PIPED_WIDTH)


def stderr_console() -> Console:
    """A console on stderr for progress and the path of what was written."""
    console = Console(stderr=True)
    return console if console.is_terminal else Console(stderr=True, width=PIPED_WIDTH)
