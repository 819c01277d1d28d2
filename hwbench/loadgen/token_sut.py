"""A LoadGen System Under Test over an OpenAI-compatible server (vLLM), for token latencies.

Each sample LoadGen issues is one streamed completion of the library's prompt (token ids) for
`output_len` tokens, sent as the serve scenario sends it (hwbench.llm.serve_client). The first
chunk carrying a token is reported with `FirstTokenComplete` and the end with
`QuerySamplesComplete` and its token count, so LoadGen times TTFT and TPOT itself
(`use_token_latencies`; loadgen/bindings/python_api.cc, loadgen/demos/token_metrics). In
accuracy mode each sample asks for its prompt's log-probabilities instead, kept for parity.
Requests run on an event loop in a thread of their own; LoadGen's IssueQuery only hands them
over.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import aiohttp

from hwbench.llm.serve_client import (
    API_PATHS,
    ClientOptions,
    http_error,
    prompt_logprobs_async,
    request_payload,
    sse_events,
)


class TokenSUT:
    """Streams LoadGen's samples from `base_url`; failed requests are counted in `errors`
    (and still reported complete, or LoadGen would wait for them forever)."""

    def __init__(
        self,
        lg: Any,
        base_url: str,
        model: str,
        prompts: list[list[int]],
        output_len: int,
        accuracy: bool = False,
    ) -> None:
        self.lg, self.base_url, self.model = lg, base_url, model
        self.prompts, self.output_len, self.accuracy = prompts, output_len, accuracy
        self.logprobs: dict[int, list[float]] = {}
        self.errors: list[str] = []
        self.e2e_ns: list[float] = []  # each request, issue to its last chunk
        self.pending: list[Any] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="token-sut")
        self.thread.start()
        self.session = self._await(self._session())

    async def _session(self) -> aiohttp.ClientSession:
        return ClientOptions().session(600)

    def _await(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def load(self, indices: list[int]) -> None:
        """Prompts are token ids in memory: nothing to load."""

    unload = load

    def issue(self, query: list[Any]) -> None:
        for sample in query:
            one = self._logprobs if self.accuracy else self._stream
            self.pending.append(
                asyncio.run_coroutine_threadsafe(one(sample.id, sample.index), self.loop)
            )

    def flush(self) -> None:
        """Every sample is sent as it comes."""

    def stop(self) -> None:
        """Close the client once LoadGen has returned (every request has ended)."""
        self._await(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()

    async def _stream(self, sample_id: int, index: int) -> None:
        payload = request_payload("completions", self.model, self.prompts[index], self.output_len)
        url = self.base_url.rstrip("/") + API_PATHS["completions"]
        tokens, began = 0, time.perf_counter_ns()
        try:
            async with self.session.post(url, json=payload) as response:
                if response.status != 200:
                    raise RuntimeError(await http_error(response))
                async for data in sse_events(response.content):
                    if data.get("choices"):
                        if tokens == 0:
                            self.lg.FirstTokenComplete(
                                [self.lg.QuerySampleResponse(sample_id, 0, 0)]
                            )
                        tokens += 1
                    elif usage := data.get("usage"):
                        tokens = usage.get("completion_tokens") or tokens
        except (aiohttp.ClientError, TimeoutError, ValueError, RuntimeError) as error:
            self.errors.append(f"{type(error).__name__}: {error}".splitlines()[0])
        self.e2e_ns.append(time.perf_counter_ns() - began)
        self.lg.QuerySamplesComplete([self.lg.QuerySampleResponse(sample_id, 0, 0, tokens)])

    async def _logprobs(self, sample_id: int, index: int) -> None:
        try:
            self.logprobs[index] = await prompt_logprobs_async(
                self.base_url, self.model, self.prompts[index]
            )
        except (aiohttp.ClientError, TimeoutError, ValueError, RuntimeError) as error:
            self.errors.append(f"{type(error).__name__}: {error}".splitlines()[0])
        response = [self.lg.QuerySampleResponse(sample_id, 0, 0, 1)]
        self.lg.FirstTokenComplete(response)
        self.lg.QuerySamplesComplete(response)
