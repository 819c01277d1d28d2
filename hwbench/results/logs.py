"""Where a case's logs (a server's output) go: a folder beside the result file, which the runner
names in the worker's environment."""

from __future__ import annotations

import os
from pathlib import Path

LOG_DIR_ENV = "HWBENCH_LOG_DIR"  # the runner's folder for logs kept beside the result
CASE_INDEX_ENV = "HWBENCH_CASE_INDEX"


def log_dir(result_path: Path) -> Path:
    """The folder beside a result file that holds its cases' logs."""
    return result_path.with_name(result_path.stem + "-logs")


def log_path(name: str) -> Path:
    """Where this case's log called `name` goes: the runner's folder when there is one, else
    a file named by the process in the current directory."""
    folder = os.environ.get(LOG_DIR_ENV)
    if not folder:
        return Path(f"hwbench-{name}-{os.getpid()}.log")
    index = os.environ.get(CASE_INDEX_ENV, "0")
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) / f"case{int(index):03d}-{name}.log"
