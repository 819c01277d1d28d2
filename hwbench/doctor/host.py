"""What the checks read, in one object: this machine by default; in tests an environment dict,
a file-system root (a fake CANN tree), a PATH holding fake vendor tools, fake package versions."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from hwbench.packages import package_version

COMMAND_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Ran:
    """A vendor tool's exit code and output."""

    code: int
    out: str
    err: str

    def last_line(self) -> str:
        lines = (self.err or self.out).strip().splitlines()
        return lines[-1] if lines else "no output"


def hwbench_sees(device: str) -> tuple[bool, str]:
    """hwbench's own verdict on `device`: its Device.available() (backends/<device>.py), which
    imports torch_npu as hwbench does and reports why it cannot."""
    from hwbench.registry import lookup

    return lookup("devices", device)().available()


def torch_cuda() -> str | None:
    """The CUDA version torch was built with ("12.8"), None for a CPU-only build."""
    return import_module("torch").version.cuda


def ort_providers() -> list[str]:
    """onnxruntime's execution providers; ImportError when it cannot be imported."""
    return import_module("onnxruntime").get_available_providers()


@dataclass(frozen=True)
class Host:
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    root: Path = Path("/")
    version: Callable[[str], str | None] = package_version  # distribution -> version
    device_ready: Callable[[str], tuple[bool, str]] = hwbench_sees
    torch_cuda: Callable[[], str | None] = torch_cuda
    ort_providers: Callable[[], list[str]] = ort_providers

    def path(self, absolute: str) -> Path:
        """A path of this host's file system (under its root)."""
        return self.root / absolute.lstrip("/")

    def home(self) -> Path | None:
        return Path(self.env["HOME"]) if self.env.get("HOME") else None

    def run(self, *argv: str) -> Ran | None:
        """`argv` run with this host's environment; None when the program is not on its PATH."""
        program = shutil.which(argv[0], path=self.env.get("PATH", ""))
        if program is None:
            return None
        try:
            done = subprocess.run(
                [program, *argv[1:]],
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
                env=dict(self.env),
            )
        except subprocess.TimeoutExpired:
            return Ran(-1, "", f"{argv[0]} did not answer in {COMMAND_TIMEOUT_S:.0f} s")
        except OSError as error:
            return Ran(-1, "", f"{argv[0]}: {error}")
        return Ran(done.returncode, done.stdout, done.stderr)
