"""The suite's endpoint settings (`--endpoint`, `--served-model`, `--tokenizer`, `--api`,
`--api-key-env`, `--no-tls-verify`) and their checks, before any case runs. No network here,
and no aiohttp: every run imports this (hwbench.config)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hwbench.errors import UsageError, unknown_choice

if TYPE_CHECKING:
    from hwbench.config import Suite

APIS = ("completions", "chat")
ENGINE, DEVICE, WORKLOAD = "endpoint", "remote", "served"
TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class EndpointConfig:
    """A case's endpoint as the suite gives it."""

    url: str
    served_model: str | None = None
    api: str = "completions"
    api_key_env: str | None = None
    verify_tls: bool = True

    @property
    def root(self) -> str:
        """The server's root: the URL without a trailing /v1 (requests add /v1/...)."""
        return self.url.rstrip("/").removesuffix("/v1")

    @property
    def host(self) -> str:
        """host[:port], without any user name or password the URL carries."""
        parts = urlsplit(self.url)
        return (parts.hostname or "") + (f":{parts.port}" if parts.port else "")

    @property
    def public_url(self) -> str:
        """The URL as the record keeps it: scheme, host, port and path only."""
        parts = urlsplit(self.root)
        return f"{parts.scheme}://{self.host}{parts.path}"

    def api_key(self) -> str:
        """The key from the variable --api-key-env names ('' when none)."""
        return os.environ.get(self.api_key_env, "") if self.api_key_env else ""


def tokenizer_file(path: str) -> Path:
    """The tokenizer.json at `path` (the file, or a directory holding it)."""
    given = Path(path)
    return given / TOKENIZER_FILE if given.is_dir() else given


def check_suite(suite: Suite) -> None:
    """UsageError for endpoint settings a run cannot use: each with what to do instead."""
    remote = [t for t in suite.targets if t.engine == ENGINE]
    if suite.endpoint is None:
        given = {"--served-model": suite.served_model, "--tokenizer": suite.tokenizer,
                 "--api-key-env": suite.api_key_env,
                 "--api": None if suite.api == APIS[0] else suite.api}  # fmt: skip
        needless = [flag for flag, value in given.items() if value is not None]
        if remote or WORKLOAD in suite.workloads or needless:
            what = ", ".join(needless) or f"target {ENGINE}@{DEVICE} or workload {WORKLOAD}"
            raise UsageError(f"{what} measure a server you run: give --endpoint URL as well")
        return
    check_url(suite.endpoint)
    if len(remote) != len(suite.targets):
        raise UsageError(
            f"--endpoint is measured by target {ENGINE}@{DEVICE} alone: leave out --target, "
            f"or give {ENGINE}@{DEVICE}:dtype=D for the dtype the server runs"
        )
    if "serve" not in suite.scenarios:
        raise UsageError("--endpoint runs the serve scenario: add --scenario serve")
    if suite.api not in APIS:
        raise unknown_choice("--api", suite.api, list(APIS))
    if suite.tokenizer is not None and not tokenizer_file(suite.tokenizer).is_file():
        raise UsageError(f"--tokenizer {suite.tokenizer}: no {TOKENIZER_FILE} there")
    if suite.api_key_env is not None and not os.environ.get(suite.api_key_env):
        raise UsageError(f"--api-key-env {suite.api_key_env}: that variable is not set or empty")


def check_url(url: str) -> None:
    """UsageError unless `url` is an http(s) URL with a host (and a numeric port)."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise UsageError(f"--endpoint {url!r} is not an http:// or https:// URL with a host")
