"""A load client for OpenAI-compatible servers, timed as `vllm bench serve` times it.

Each request streams `/v1/completions` (or `/v1/chat/completions`, the prompt as one user
message) with `ignore_eos` and no `min_tokens`, as vLLM's benchmark sends it
(hwbench.engines.vllm_engine says why), so every request yields exactly `output_len` tokens
from vLLM. The first SSE chunk carrying choices sets TTFT, each later one adds an ITL gap, E2EL
ends at the last such chunk, and the output length is the final usage chunk's
`completion_tokens` (vLLM's `async_request_openai_completions` and
`async_request_openai_chat_completions`, vllm/benchmarks/lib/endpoint_request_func.py); the
prompt's length is its `prompt_tokens`. A request fails (with one line saying why) on an HTTP
error, a stream cut before its `data: [DONE]` line, no output chunk, no usage chunk, more
output tokens than `max_tokens` asked for, or the per-request timeout. The session does not
read proxy settings from the environment (aiohttp's trust_env, on in vLLM's client): with it
each request makes two thread-pool hops after its clock starts
(benchmarks/client_trust_env_cost.txt).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from hwbench.llm.metrics import RequestResult, poisson_arrivals

API_PATHS = {"completions": "/v1/completions", "chat": "/v1/chat/completions"}
COMPLETIONS = API_PATHS["completions"]
Prompt = str | list[int]  # text, or token ids (completions only)
# Statuses with which a server says it does not take `prompt_logprobs` (or a prompt of ids)
UNSUPPORTED = {400, 404, 422, 501}


@dataclass(frozen=True)
class ClientOptions:
    """How requests go out: the API ("completions" or "chat"), headers sent with each (an API
    key's Authorization), and whether TLS certificates are verified."""

    api: str = "completions"
    headers: Mapping[str, str] = field(default_factory=dict)
    verify_tls: bool = True

    def session(self, timeout_s: float | None = None) -> aiohttp.ClientSession:
        """A client session with no cap on concurrent connections (as vLLM's)."""
        connector = aiohttp.TCPConnector(limit=0, ssl=self.verify_tls)  # True: verified
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        return aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers=dict(self.headers)
        )


class StreamCut(ValueError):
    """The response ended before its `data: [DONE]` line."""


def run_load(
    base_url: str,
    model: str,
    prompts: Sequence[Prompt],
    output_len: int,
    request_rate: float,
    burstiness: float = 1.0,
    seed: int = 0,
    request_timeout_s: float = 600,
    options: ClientOptions | None = None,
) -> tuple[list[RequestResult], float]:
    """Send `prompts` at Poisson offsets; results in prompt order and the seconds from the
    first send to the last completion. `base_url` is the server's root (no /v1)."""
    offsets = poisson_arrivals(len(prompts), request_rate, burstiness, seed)
    send = _send_at(
        base_url, model, prompts, offsets, output_len, request_timeout_s,
        options or ClientOptions(),
    )  # fmt: skip
    return asyncio.run(send)


async def _send_at(
    base_url: str,
    model: str,
    prompts: Sequence[Prompt],
    offsets: Sequence[float],
    output_len: int,
    timeout_s: float,
    options: ClientOptions,
) -> tuple[list[RequestResult], float]:
    """Each prompt sent `offsets` seconds after the first, in one client session."""
    async with options.session(timeout_s) as session:
        start = time.perf_counter()

        async def send(prompt: Prompt, offset: float) -> RequestResult:
            await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
            request = stream_completion(session, base_url, model, prompt, output_len, options)
            result = await request
            if result.error == "TimeoutError":
                result.error = f"no complete response within {timeout_s:g} s (request timeout)"
            return result

        results = await asyncio.gather(*map(send, prompts, offsets))
        return list(results), time.perf_counter() - start


async def stream_completion(
    session: aiohttp.ClientSession,
    base_url: str,
    model: str,
    prompt: Prompt,
    output_len: int,
    options: ClientOptions | None = None,
) -> RequestResult:
    """One streamed completion of `output_len` tokens, timed; failures in `error`."""
    options = options or ClientOptions()
    payload = request_payload(options.api, model, prompt, output_len)
    known_len = len(prompt) if isinstance(prompt, list) else 0  # text: the server's count
    result = RequestResult(False, known_len, 0, 0.0, [], 0.0)
    url = base_url.rstrip("/") + API_PATHS[options.api]
    start = last = time.perf_counter()
    first = True
    try:
        async with session.post(url, json=payload) as response:
            if response.status != 200:
                result.error = await http_error(response)
                return result
            async for data in sse_events(response.content):
                now = time.perf_counter()
                if data.get("choices"):
                    if first:
                        result.ttft_s, first = now - start, False
                    else:
                        result.itl_s.append(now - last)
                    last = now
                elif usage := data.get("usage"):
                    result.output_len = usage.get("completion_tokens") or 0
                    result.prompt_len = usage.get("prompt_tokens") or result.prompt_len
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:  # ValueError: bad JSON
        result.error = ": ".join(filter(None, [type(error).__name__, str(error)])).splitlines()[0]
        return result
    result.error = stream_problem(first, result.output_len, output_len)
    result.ok, result.e2el_s = not result.error, last - start
    return result


def stream_problem(no_output: bool, got: int, asked: int) -> str:
    """Why a complete stream is still a failed request, or ''."""
    if no_output:
        return "the stream ended before any output chunk"
    if not got:
        return "the stream ended without a usage chunk counting the output tokens"
    if got > asked:
        return f"the server made {got} output tokens for max_tokens {asked} (max_tokens ignored)"
    return ""


def request_payload(api: str, model: str, prompt: Prompt, output_len: int) -> dict[str, Any]:
    """Exactly `output_len` greedy tokens, streamed, with a final usage chunk; chat sends the
    prompt as one user message and the length as `max_completion_tokens`, as vLLM's
    benchmark does."""
    payload: dict[str, Any] = {"model": model}
    if api == "chat":
        payload |= {
            "messages": [{"role": "user", "content": prompt}],
            "max_completion_tokens": output_len,
        }
    else:
        payload |= {"prompt": prompt, "max_tokens": output_len}
    return payload | {
        "ignore_eos": True,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def completion_payload(model: str, prompt: Prompt, output_len: int) -> dict[str, Any]:
    """The completions API's request (`request_payload`)."""
    return request_payload("completions", model, prompt, output_len)


async def sse_events(stream: aiohttp.StreamReader) -> AsyncIterator[dict[str, Any]]:
    """The JSON payloads of `data:` lines of a server-sent event stream, until `[DONE]`;
    StreamCut when the stream ends before it."""
    async for raw in stream:  # one line at a time
        line = raw.decode().strip()
        if not line.startswith("data:"):
            continue  # blank separators and `:` comments
        data = line.removeprefix("data:").strip()
        if data == "[DONE]":
            return
        yield json.loads(data)
    raise StreamCut("the stream ended before its [DONE] line")


async def http_error(response: aiohttp.ClientResponse) -> str:
    """One line for a failed response: the status and the server's error message."""
    text = await response.text()
    try:
        message = json.loads(text)["error"]["message"]  # the OpenAI error shape vLLM uses
    except (ValueError, KeyError, TypeError):
        message = text
    message = " ".join(str(message).split())[:300]
    return f"HTTP {response.status} {response.reason}: {message}"


class NoPromptLogprobs(RuntimeError):
    """The server does not return prompt log-probabilities (it refused the request, or its
    answer has none)."""


def prompt_logprobs(
    base_url: str, model: str, token_ids: list[int], options: ClientOptions | None = None
) -> list[float]:
    """The server's log-probability of each prompt token from position 1 on, given the ones
    before it (vLLM's `prompt_logprobs` extra parameter of /v1/completions,
    vllm/entrypoints/openai/completion/protocol.py)."""
    return asyncio.run(prompt_logprobs_async(base_url, model, token_ids, options))


async def prompt_logprobs_async(
    base_url: str, model: str, token_ids: list[int], options: ClientOptions | None = None
) -> list[float]:
    """`prompt_logprobs` inside a running event loop."""
    payload = {
        "model": model,
        "prompt": token_ids,
        "max_tokens": 1,
        "temperature": 0,
        "prompt_logprobs": 0,
    }
    async with (
        (options or ClientOptions()).session(600) as session,
        session.post(base_url.rstrip("/") + COMPLETIONS, json=payload) as response,
    ):
        if response.status != 200:
            error = RuntimeError if response.status not in UNSUPPORTED else NoPromptLogprobs
            raise error(f"prompt_logprobs: {await http_error(response)}")
        body = await response.json()
    try:
        per_position = body["choices"][0]["prompt_logprobs"]
    except (KeyError, IndexError, TypeError):
        per_position = None
    if per_position is None:
        raise NoPromptLogprobs("the server's answer has no prompt_logprobs")
    return token_logprobs(per_position, token_ids)


def token_logprobs(per_position: list[dict[str, Any] | None], token_ids: list[int]) -> list[float]:
    """Pick each prompt token's logprob from vLLM's per-position {token id: {"logprob": ..}}
    (JSON keys are strings; position 0 is null; -inf arrives clamped to -9999)."""
    if len(per_position) != len(token_ids):
        raise RuntimeError(
            f"prompt_logprobs has {len(per_position)} positions for {len(token_ids)} tokens"
        )
    return [float(per_position[i][str(t)]["logprob"]) for i, t in enumerate(token_ids) if i]
