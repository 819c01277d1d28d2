"""Shared fixtures: the test plug-ins on the path, a quick harness for end-to-end runs."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

PLUGINS_DIR = Path(__file__).parent / "plugins"


@pytest.fixture
def plugin_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment in which hwbench (and its workers) load the misbehaving test engines."""
    from hwbench.registry import plugins

    path = os.pathsep.join(filter(None, [str(PLUGINS_DIR), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.setenv("HWBENCH_PLUGINS", "hwbench_test_plugins")
    monkeypatch.syspath_prepend(str(PLUGINS_DIR))
    plugins.cache_clear()
    yield dict(os.environ)
    plugins.cache_clear()


def plugin_environment(**extra: str) -> dict[str, str]:
    """This process's environment with the test engines loaded, as `plugin_env` gives it, for
    a fixture that a module's tests share (and `extra` variables)."""
    path = os.pathsep.join(filter(None, [str(PLUGINS_DIR), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "HWBENCH_PLUGINS": "hwbench_test_plugins", **extra}


def hwbench_cmd(*args: str) -> list[str]:
    """The CLI as a user runs it, through this interpreter."""
    return [sys.executable, "-m", "hwbench", *args]


def default_sigint() -> None:
    """`preexec_fn` for a child a test interrupts: Ctrl-C's default action. A test run started
    with SIGINT ignored (a background job of a non-interactive shell) would pass that on, and
    Python keeps an inherited SIG_IGN instead of raising KeyboardInterrupt (signal module docs)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
