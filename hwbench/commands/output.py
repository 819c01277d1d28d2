"""Consoles for command output: a terminal's own width, and no wrapping when piped; progress
as a bar on a terminal and as a line per finished step without one."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


class Steps:
    """Progress through a command's steps. On a terminal, a bar that goes away at the end;
    without one (CI logs) rich shows nothing until the end, so each finished step prints a line.
    Use as a context manager."""

    def __init__(self, console: Console, total: float, description: str = "starting") -> None:
        self.console = console
        self.lines = not console.is_terminal
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        self.progress = Progress(
            *columns, TimeElapsedColumn(), console=console, transient=True, disable=self.lines
        )
        self.task = self.progress.add_task(description, total=total)

    def __enter__(self) -> Steps:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def doing(self, description: str) -> None:
        """Name the step under way (on the bar)."""
        self.progress.update(self.task, description=description)

    def advance(self, amount: float) -> None:
        self.progress.advance(self.task, amount)

    def done(self, line: str, amount: float = 1.0) -> None:
        """A step finished: the bar moves on by `amount`; without a terminal, `line` is printed
        (as plain text: labels hold brackets)."""
        self.advance(amount)
        if self.lines:
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
