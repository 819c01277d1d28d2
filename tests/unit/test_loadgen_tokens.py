"""The token System Under Test against a stand-in OpenAI server on 127.0.0.1: LoadGen's Server
scenario with token latencies times TTFT from FirstTokenComplete and TPOT from the token
count, and its accuracy run collects every prompt's log-probabilities."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import replace

import pytest

from hwbench.loadgen.config import loadgen_config
from hwbench.loadgen.run import run_loadgen
from hwbench.loadgen.settings import loadgen_settings

lg = pytest.importorskip("mlperf_loadgen")
web = pytest.importorskip("aiohttp.web")

FIRST_TOKEN_S, TOKEN_GAP_S, TOKENS = 0.02, 0.004, 5


async def completions(request):
    body = await request.json()
    if "prompt_logprobs" in body:  # vLLM's shape: position 0 null, then {id: {"logprob"}}
        per_position = [None] + [{str(t): {"logprob": -0.5 * t}} for t in body["prompt"][1:]]
        return web.json_response({"choices": [{"prompt_logprobs": per_position}]})
    response = web.StreamResponse()
    await response.prepare(request)
    await asyncio.sleep(FIRST_TOKEN_S)
    for i in range(body["max_tokens"]):
        await asyncio.sleep(TOKEN_GAP_S if i else 0)
        await response.write(b'data: {"choices": [{"text": "x"}]}\n\n')
    usage = {"usage": {"completion_tokens": body["max_tokens"], "prompt_tokens": 3}}
    await response.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
    return response


@pytest.fixture(scope="module")
def server():
    app = web.Application()
    app.router.add_post("/v1/completions", completions)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    loop.run_until_complete(web.SockSite(runner, sock).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join()


def run(server, tmp_path, mode):
    from hwbench.loadgen.token_sut import TokenSUT

    config = loadgen_config("Server", "tiny", {"server_target_qps": 40.0})
    config = replace(config, sample_count=8, min_duration_ms=300, min_query_count=24)
    settings = loadgen_settings(lg, config, mode, 1e6, 1, 0)
    settings.use_token_latencies = True
    prompts = [[1, 2 + i, 3] for i in range(8)]
    sut = TokenSUT(lg, server, "m", prompts, TOKENS, accuracy=mode == "AccuracyOnly")
    return sut, run_loadgen(lg, sut, settings, 8, tmp_path)


def test_loadgen_times_first_tokens_and_tokens_it_is_told_of(server, tmp_path):
    sut, judged = run(server, tmp_path, "PerformanceOnly")
    assert sut.errors == []
    assert judged["scenario"] == "Server" and judged["query_count"] >= 24
    assert FIRST_TOKEN_S * 1e3 <= judged["ttft_p50_ms"] < judged["p50_ms"]
    assert TOKEN_GAP_S * 1e3 * 0.8 <= judged["tpot_p50_ms"] < FIRST_TOKEN_S * 1e3
    assert judged["tokens_per_s"] > 0
    assert len(sut.e2e_ns) == judged["query_count"]


def test_the_accuracy_run_collects_every_prompts_logprobs(server, tmp_path):
    sut, judged = run(server, tmp_path, "AccuracyOnly")
    assert sut.errors == [] and judged["mode"] == "AccuracyOnly"
    assert sorted(sut.logprobs) == list(range(8))
    assert sut.logprobs[3] == [-0.5 * 5, -1.5]  # prompt [1, 5, 3], positions 1 and 2
