"""How a case and its target are written in every table, file and message. Reads only the
case key (a dict), so commands that read result files need neither torch nor the registry."""

from __future__ import annotations

import math
from typing import Any

DEFAULT_DTYPE = "fp32"


def rate_text(rate: float) -> str:
    """A request rate as written in keys and tables: '4', '0.5', 'inf'."""
    return "inf" if math.isinf(rate) else f"{rate:g}"


def target_label(key: dict[str, Any]) -> str:
    """The target as a user writes it, ENGINE@DEVICE[:dtype=...,options], dtype first and
    left out when it is the default fp32; an A/B run's arm after it in brackets."""
    options = sorted((key.get("options") or {}).items())
    if key.get("dtype", DEFAULT_DTYPE) != DEFAULT_DTYPE:
        options.insert(0, ("dtype", key["dtype"]))
    written = ",".join(f"{k}={v}" for k, v in options)
    arm = f" [{key['arm']}]" if key.get("arm") else ""
    return f"{key['engine']}@{key['device']}" + (f":{written}" if written else "") + arm


def workload_label(key: dict[str, Any]) -> str:
    """workload/size, or a --model workload's name and sequence length (it has no size)."""
    return key.get("model_name") or f"{key['workload']}/{key['size']}"


def case_label(key: dict[str, Any]) -> str:
    """workload/size scenario batch (a --model workload: its name and sequence length instead
    of workload/size), with token counts and request rate for LLM cases (the dtype belongs to
    the target: `target_label`)."""
    text = f"{workload_label(key)} {key['scenario']} b{key['batch']}"
    return text + llm_suffix(key)


def llm_suffix(key: dict[str, Any]) -> str:
    """' 128->32' (prompt -> output tokens) and ' @4/s' (request rate) for LLM cases."""
    text = f" {key['prompt_len']}->{key['output_len']}" if "prompt_len" in key else ""
    return text + (f" @{key['request_rate']}/s" if "request_rate" in key else "")


def label(key: dict[str, Any]) -> str:
    """The case and where it ran: 'mlp/tiny latency b1 torch@cpu:dtype=bf16'."""
    return f"{case_label(key)} {target_label(key)}"
