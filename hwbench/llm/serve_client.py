"""A load client for vLLM's OpenAI-compatible server, timed as `vllm bench serve` times it.

Each request streams `/v1/completions` from a text prompt (or token ids) with `ignore_eos`
and no `min_tokens`, as vLLM's benchmark sends it (hwbench.engines.vllm_engine says why), so
every request yields exactly `output_len` tokens. The first SSE chunk carrying choices sets
TTFT, each later one adds an ITL gap, E2EL ends at the last such chunk, and the output length
is the final usage chunk's `completion_tokens` (vLLM's `async_request_openai_completions`);
the prompt's length is its `prompt_tokens`. The session does not read proxy settings from the
environment (aiohttp's trust_env, on in vLLM's client): the server is on 127.0.0.1, and with
it each request makes two thread-pool hops after its clock starts
(benchmarks/client_trust_env_cost.txt).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp

from hwbench.llm.metrics import RequestResult, poisson_arrivals

COMPLETIONS = "/v1/completions"
Prompt = str | list[int]  # text, or token ids


def run_load(
    base_url: str,
    model: str,
    prompts: Sequence[Prompt],
    output_len: int,
    request_rate: float,
    burstiness: float = 1.0,
    seed: int = 0,
    request_timeout_s: float = 600,
) -> tuple[list[RequestResult], float]:
    """Send `prompts` at Poisson offsets; results in prompt order and the seconds from the
    first send to the last completion."""
    offsets = poisson_arrivals(len(prompts), request_rate, burstiness, seed)
    timeout = aiohttp.ClientTimeout(total=request_timeout_s)
    return asyncio.run(_send_at(base_url, model, prompts, offsets, output_len, timeout))


async def _send_at(
    base_url: str,
    model: str,
    prompts: Sequence[Prompt],
    offsets: Sequence[float],
    output_len: int,
    timeout: aiohttp.ClientTimeout,
) -> tuple[list[RequestResult], float]:
    """Each prompt sent `offsets` seconds after the first, in one client session."""
    connector = aiohttp.TCPConnector(limit=0)  # no cap on concurrent connections, as vLLM's
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()

        async def send(prompt: Prompt, offset: float) -> RequestResult:
            await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
            return await stream_completion(session, base_url, model, prompt, output_len)

        results = await asyncio.gather(*map(send, prompts, offsets))
        return list(results), time.perf_counter() - start


async def stream_completion(
    session: aiohttp.ClientSession, base_url: str, model: str, prompt: Prompt, output_len: int
) -> RequestResult:
    """One streamed completion of `output_len` tokens, timed; failures in `error`."""
    payload = completion_payload(model, prompt, output_len)
    known_len = len(prompt) if isinstance(prompt, list) else 0  # text: the server's count
    result = RequestResult(False, known_len, 0, 0.0, [], 0.0)
    start = last = time.perf_counter()
    first = True
    try:
        async with session.post(base_url.rstrip("/") + COMPLETIONS, json=payload) as response:
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
    if first:
        result.error = "the stream ended before any output chunk"
        return result
    if not result.output_len:
        result.error = "the stream ended without a usage chunk counting the output tokens"
        return result
    result.ok, result.e2el_s = True, last - start
    return result


def completion_payload(model: str, prompt: Prompt, output_len: int) -> dict[str, Any]:
    """Exactly `output_len` greedy tokens, streamed, with a final usage chunk."""
    return {
        "model": model,
        "prompt": prompt,
        "max_tokens": output_len,
        "ignore_eos": True,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def sse_events(stream: aiohttp.StreamReader) -> AsyncIterator[dict[str, Any]]:
    """The JSON payloads of `data:` lines of a server-sent event stream, until `[DONE]`."""
    async for raw in stream:  # one line at a time
        line = raw.decode().strip()
        if not line.startswith("data:"):
            continue  # blank separators and `:` comments
        data = line.removeprefix("data:").strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


async def http_error(response: aiohttp.ClientResponse) -> str:
    """One line for a failed response: the status and the server's error message."""
    text = await response.text()
    try:
        message = json.loads(text)["error"]["message"]  # the OpenAI error shape vLLM uses
    except (ValueError, KeyError, TypeError):
        message = text
    message = " ".join(str(message).split())[:300]
    return f"HTTP {response.status} {response.reason}: {message}"


def prompt_logprobs(base_url: str, model: str, token_ids: list[int]) -> list[float]:
    """The server's log-probability of each prompt token from position 1 on, given the ones
    before it (vLLM's `prompt_logprobs` extra parameter)."""
    return asyncio.run(prompt_logprobs_async(base_url, model, token_ids))


async def prompt_logprobs_async(base_url: str, model: str, token_ids: list[int]) -> list[float]:
    """`prompt_logprobs` inside a running event loop."""
    payload = {
        "model": model,
        "prompt": token_ids,
        "max_tokens": 1,
        "temperature": 0,
        "prompt_logprobs": 0,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url.rstrip("/") + COMPLETIONS, json=payload) as response,
    ):
        if response.status != 200:
            raise RuntimeError(f"prompt_logprobs: {await http_error(response)}")
        body = await response.json()
    return token_logprobs(body["choices"][0]["prompt_logprobs"], token_ids)


def token_logprobs(per_position: list[dict[str, Any] | None], token_ids: list[int]) -> list[float]:
    """Pick each prompt token's logprob from vLLM's per-position {token id: {"logprob": ..}}
    (JSON keys are strings; position 0 is null; -inf arrives clamped to -9999)."""
    if len(per_position) != len(token_ids):
        raise RuntimeError(
            f"prompt_logprobs has {len(per_position)} positions for {len(token_ids)} tokens"
        )
    return [float(per_position[i][str(t)]["logprob"]) for i, t in enumerate(token_ids) if i]
