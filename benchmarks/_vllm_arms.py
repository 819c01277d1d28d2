"""Shared by the benchmarks against vLLM's own: the case both compare, its checkpoint, and
running one arm in a fresh child process of the calling script."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

WORKLOAD, SIZE = "llama", "tiny"
PROMPT_LEN, OUTPUT_LEN = 128, 32
KV_CACHE_GB = "1"  # VLLM_CPU_KVCACHE_SPACE, hwbench's default for the CPU


def checkpoint() -> Path:
    """The workload's Hugging Face export, which both hwbench and vLLM load."""
    from hwbench.llm.checkpoint import checkpoint_dir
    from hwbench.workloads import make_workload

    return checkpoint_dir(make_workload(WORKLOAD, SIZE)).directory


def run_self(script: str, args: list[str], name: str, tmp: Path, env: dict | None = None) -> dict:
    """Run `script` again with `args` plus a JSON path it writes, and read that JSON."""
    out = tmp / f"{name}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, str(Path(script).resolve()), *args, str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    return json.loads(out.read_text())
