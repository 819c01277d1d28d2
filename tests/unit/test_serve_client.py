"""The load client against a fake OpenAI completions server that streams like vLLM 0.32."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time

import pytest

web = pytest.importorskip("aiohttp.web")

from hwbench.llm.metrics import poisson_arrivals  # noqa: E402
from hwbench.llm.serve_client import prompt_logprobs, run_load, token_logprobs  # noqa: E402

FIRST_S = 0.05  # before the first chunk
GAP_S = 0.02  # between output chunks
SEEN = web.AppKey("seen", list)  # (arrival time, payload) of each request


def chunk(choices: list[dict], **extra: object) -> bytes:
    body = {"id": "cmpl-1", "object": "text_completion", "model": "m", "choices": choices}
    return f"data: {json.dumps({**body, **extra})}\n\n".encode()


async def completions(request: web.Request) -> web.StreamResponse:
    payload = await request.json()
    request.app[SEEN].append((time.perf_counter(), payload))
    if payload["model"] == "fail":
        error = {"message": "boom\nagain", "type": "InternalServerError", "code": 500}
        return web.json_response({"error": error}, status=500)
    if "prompt_logprobs" in payload:
        return web.json_response(logprobs_response(payload["prompt"]))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b": ping\n\n")
    n = 0 if payload["model"] == "silent" else payload["max_tokens"]
    # a longer prompt takes longer, so results come back out of prompt order
    await asyncio.sleep(FIRST_S + 0.05 * len(payload["prompt"]))
    for i in range(n):
        if i:
            await asyncio.sleep(GAP_S)
        text = "" if i == 0 else f"t{i}"  # vLLM's first chunk may carry no text
        finish = "length" if i == n - 1 else None
        await response.write(chunk([{"index": 0, "text": text, "finish_reason": finish}]))
    usage = {"prompt_tokens": len(payload["prompt"]), "completion_tokens": n}
    if payload["model"] != "no-usage":
        await response.write(chunk([], usage=usage))
    await response.write(b"data: [DONE]\n\n")
    return response


def logprobs_response(prompt: list[int]) -> dict:
    # each position also lists another token, as vLLM does when the prompt token is not top-1
    positions = [None] + [
        {str(t): {"logprob": -0.1 * t, "rank": 3}, "999": {"logprob": -0.01, "rank": 1}}
        for t in prompt[1:]
    ]
    choice = {"index": 0, "text": "x", "finish_reason": "length", "prompt_logprobs": positions}
    return {"id": "cmpl-2", "choices": [choice], "usage": {"completion_tokens": 1}}


@pytest.fixture(scope="module")
def server():
    """(base_url, app) of the fake server, running in a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    app = web.Application()
    app[SEEN] = []
    app.router.add_post("/v1/completions", completions)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    loop.run_until_complete(web.SockSite(runner, sock).start())
    port = sock.getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", app
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def test_request_payload_is_what_vllm_bench_sends(server):
    url, app = server
    app[SEEN].clear()
    run_load(url, "m", [[1, 2]], output_len=3, request_rate=math.inf)
    [(_, payload)] = app[SEEN]
    assert payload == {
        "model": "m",
        "prompt": [1, 2],
        "max_tokens": 3,
        "ignore_eos": True,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_stream_timing_and_token_count(server):
    url, _ = server
    [result], duration = run_load(url + "/", "m", [[7]], output_len=5, request_rate=math.inf)
    assert result.ok and result.error == ""
    assert (result.prompt_len, result.output_len) == (1, 5)
    assert result.ttft_s >= FIRST_S + 0.05
    assert len(result.itl_s) == 4  # the empty first chunk counts as the first token
    assert all(gap >= GAP_S * 0.8 for gap in result.itl_s)
    assert result.e2el_s == pytest.approx(result.ttft_s + sum(result.itl_s))
    assert duration >= result.e2el_s


def test_results_keep_prompt_order(server):
    url, _ = server
    prompts = [[1, 2, 3, 4], [1, 2], [1]]  # the last finishes first
    results, duration = run_load(url, "m", prompts, output_len=2, request_rate=math.inf)
    assert [r.prompt_len for r in results] == [4, 2, 1]
    assert results[0].e2el_s > results[2].e2el_s
    assert duration == pytest.approx(max(r.e2el_s for r in results), abs=0.05)


def test_requests_leave_at_poisson_offsets(server):
    url, app = server
    app[SEEN].clear()
    prompts = [[1]] * 4
    run_load(url, "m", prompts, output_len=1, request_rate=10.0, burstiness=1.0, seed=5)
    arrivals = sorted(t for t, _ in app[SEEN])
    offsets = poisson_arrivals(4, 10.0, 1.0, seed=5)
    got = [t - arrivals[0] for t in arrivals]
    assert got == pytest.approx([t - offsets[0] for t in offsets], abs=0.05)


def test_http_error_is_a_failed_request_with_one_line(server):
    url, _ = server
    [result], _ = run_load(url, "fail", [[1]], output_len=2, request_rate=math.inf)
    assert not result.ok
    assert result.error == "HTTP 500 Internal Server Error: boom again"


def test_stream_without_output_chunks_fails(server):
    url, _ = server
    [result], _ = run_load(url, "silent", [[1]], output_len=2, request_rate=math.inf)
    assert not result.ok and result.error == "the stream ended before any output chunk"


def test_stream_without_usage_fails(server):
    url, _ = server
    [result], _ = run_load(url, "no-usage", [[1]], output_len=2, request_rate=math.inf)
    assert not result.ok and "without a usage chunk" in result.error


def test_request_timeout_is_a_failed_request(server):
    url, _ = server
    [result], _ = run_load(url, "m", [[1]], 2, math.inf, request_timeout_s=FIRST_S / 2)
    assert not result.ok
    assert result.error == f"no complete response within {FIRST_S / 2:g} s (request timeout)"


def test_unreachable_server_is_a_failed_request():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        [result], _ = run_load(f"http://127.0.0.1:{port}", "m", [[1]], 2, math.inf)
    assert not result.ok
    assert result.error.startswith("ClientConnectorError") and "\n" not in result.error


def test_prompt_logprobs_picks_each_prompt_token(server):
    url, app = server
    app[SEEN].clear()
    assert prompt_logprobs(url, "m", [5, 10, 20]) == pytest.approx([-1.0, -2.0])
    [(_, payload)] = app[SEEN]
    assert payload["max_tokens"] == 1 and payload["prompt_logprobs"] == 0
    assert "stream" not in payload


def test_prompt_logprobs_http_error_raises(server):
    url, _ = server
    with pytest.raises(RuntimeError, match="HTTP 500 Internal Server Error: boom again"):
        prompt_logprobs(url, "fail", [1, 2])


def test_token_logprobs_rejects_a_length_mismatch():
    with pytest.raises(RuntimeError, match="2 positions for 3 tokens"):
        token_logprobs([None, {"1": {"logprob": -1.0}}], [0, 1, 2])
