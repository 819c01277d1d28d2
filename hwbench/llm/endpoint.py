"""A server hwbench did not start (`--endpoint URL`): where its API is, the API key from the
environment variable the user names, and what the server says about itself before any load:
the models it serves (`GET /v1/models`, OpenAI's list-models API,
https://platform.openai.com/docs/api-reference/models/list; vLLM: vllm/entrypoints/openai/
models/api_router.py) and its version (vLLM's `GET /version`,
vllm/entrypoints/serve/instrumentator/basic.py; TGI's `GET /info`,
https://huggingface.github.io/text-generation-inference/#/Text%20Generation%20Inference/get_model_info).
The key is sent as `Authorization: Bearer KEY` (https://platform.openai.com/docs/api-reference/authentication)
and never written anywhere; the record names the host and the variable, not the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from hwbench.engines.base import Endpoint
from hwbench.llm.endpoint_config import EndpointConfig
from hwbench.llm.serve_client import ClientOptions, http_error

PROBE_TIMEOUT_S = 30.0
VERSION_PATHS = ("/version", "/info")  # vLLM (and SGLang, vllm-ascend); TGI


class EndpointError(RuntimeError):
    """The server cannot be measured as asked (unreachable, key refused, model not served):
    one line."""


def client_options(config: EndpointConfig) -> ClientOptions:
    """The API, the key's header (when --api-key-env names a variable) and TLS checking."""
    key = config.api_key()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return ClientOptions(config.api, headers, config.verify_tls)


def probe(config: EndpointConfig) -> Endpoint:
    """The server, probed: its model resolved and its version read; EndpointError when it
    cannot be reached, refuses the key, or does not serve the model asked for."""
    details = asyncio.run(_probe(config))
    return Endpoint(config.root, details["model"], {"endpoint": details})


async def _probe(config: EndpointConfig) -> dict[str, Any]:
    options = client_options(config)
    async with options.session(PROBE_TIMEOUT_S) as session:
        status, body, error = await _get(session, config.root + "/v1/models")
        if status in (401, 403):
            refused = f"{config.public_url} refused the request: {error}"
            raise EndpointError(refused + key_hint(config))
        listed = model_ids(body) if status == 200 else None
        model = resolve_model(config, listed, error)
        version = await server_version(session, config.root)
    return {
        "url": config.public_url,
        "host": config.host,
        "api": config.api,
        "model": model,
        "models_listed": listed if listed is not None else f"not listed ({error})",
        "server_version": version or "not reported",
        "tls_verify": config.verify_tls,
        "api_key": f"from ${config.api_key_env}" if config.api_key_env else "none sent",
    }


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any, str]:
    """(status, parsed JSON or None, one-line error) of GET `url`; EndpointError when the
    server cannot be reached at all."""
    try:
        async with session.get(url) as response:
            if response.status != 200:
                return response.status, None, await http_error(response)
            try:
                return 200, json.loads(await response.text()), ""
            except ValueError:
                return 200, None, f"GET {url} did not answer JSON"
    except (aiohttp.ClientError, TimeoutError) as error:
        what = ": ".join(filter(None, [type(error).__name__, str(error)])).splitlines()[0]
        raise EndpointError(f"cannot reach {urlsplit(url).netloc}: {what}") from None


def key_hint(config: EndpointConfig) -> str:
    if config.api_key_env:
        return f" (the key sent is ${config.api_key_env}'s)"
    return " (no API key sent: name the variable holding it with --api-key-env)"


def model_ids(body: Any) -> list[str] | None:
    """The ids of an OpenAI model list ({"data": [{"id": ...}, ...]}), or None."""
    try:
        return [str(item["id"]) for item in body["data"]]
    except (KeyError, TypeError):
        return None


def resolve_model(config: EndpointConfig, listed: list[str] | None, error: str) -> str:
    """--served-model if the server lists it (or lists nothing), else its only model."""
    asked = config.served_model
    if listed is None:
        if asked:
            return asked
        raise EndpointError(
            f"{config.public_url} does not list its models ({error or 'no model list'}): "
            "name the model with --served-model"
        )
    if asked:
        if asked not in listed:
            raise EndpointError(
                f"model {asked!r} is not served at {config.host}; it serves: {', '.join(listed)}"
            )
        return asked
    if len(listed) != 1:
        served = ", ".join(listed) or "none"
        raise EndpointError(
            f"{config.host} serves {len(listed)} models ({served}): name one with --served-model"
        )
    return listed[0]


async def server_version(session: aiohttp.ClientSession, root: str) -> str | None:
    """The version the server reports at the first of VERSION_PATHS that answers one."""
    for path in VERSION_PATHS:
        with contextlib.suppress(EndpointError):
            status, body, _ = await _get(session, root + path)
            if status == 200 and isinstance(body, dict) and body.get("version"):
                return str(body["version"])
    return None
