"""What aiohttp's `trust_env=True` costs a load client's time to first byte in a burst.

vLLM's serving benchmark opens its `aiohttp.ClientSession(trust_env=True)`
(vllm/benchmarks/serve.py, `benchmark`); hwbench's serve client does not (it talks to a server
it started on 127.0.0.1, where proxy variables must not apply). With trust_env, every request
makes two round trips through a thread pool before its connection is opened: a netrc lookup
(`loop.run_in_executor(None, self._get_netrc_auth, host)`) and a proxy lookup
(`asyncio.to_thread(get_env_proxy_for_url, url)`), aiohttp/client.py `ClientSession._request`
(aiohttp 3.14). In a burst, the requests' clocks have started while those hops queue, so the
measured time to first byte grows with the burst.

Here one process serves a trivial SSE response from an aiohttp server on 127.0.0.1 and sends
bursts of BURST concurrent POSTs to it, with and without trust_env, alternating; the figure is
the median over requests of send -> first body chunk (how vLLM's client and hwbench's time
TTFT), then the median over bursts. No model runs: only the client differs.

Run: flock /tmp/hwbench-quiet.lock python benchmarks/client_trust_env_cost.py   (~10 seconds)
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp
from _report import publish
from aiohttp import web
from rich.table import Table

BURST_SIZES = (1, 16, 48)  # 48: the serve comparison's request count at rate inf
BURSTS = 20
PAYLOAD = {"prompt": "x" * 600, "max_tokens": 32, "stream": True}  # ~ a 128-token prompt


async def first_chunk(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b'data: {"choices": [{"text": "a"}]}\n\n')
    await response.write_eof()
    return response


async def burst_ttfb_ms(url: str, size: int, trust_env: bool) -> float:
    """Median send -> first body chunk (ms) over one burst of `size` concurrent requests."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, trust_env=trust_env) as session:

        async def one() -> float:
            start = time.perf_counter()
            async with session.post(url, json=PAYLOAD) as response:
                async for _ in response.content.iter_any():
                    break
                return time.perf_counter() - start

        return statistics.median(await asyncio.gather(*(one() for _ in range(size)))) * 1e3


async def measure() -> dict[int, dict[bool, list[float]]]:
    app = web.Application()
    app.router.add_post("/v1/completions", first_chunk)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]  # the port the OS picked
    url = f"http://127.0.0.1:{port}/v1/completions"
    got: dict[int, dict[bool, list[float]]] = {}
    try:
        for size in BURST_SIZES:
            got[size] = {False: [], True: []}
            await burst_ttfb_ms(url, size, False)  # warm-up, dropped
            for index in range(BURSTS):
                for trust_env in (False, True) if index % 2 else (True, False):
                    got[size][trust_env].append(await burst_ttfb_ms(url, size, trust_env))
    finally:
        await runner.cleanup()
    return got


def main() -> None:
    got = asyncio.run(measure())
    table = Table(
        "concurrent requests",
        "trust_env=False (hwbench): median ms",
        "trust_env=True (vLLM bench): median ms",
        "difference ms",
        "ratio",
        title=(
            "time to first byte in a burst, aiohttp client -> trivial SSE server on 127.0.0.1, "
            f"median over {BURSTS} bursts of each burst's median"
        ),
    )
    for size, arms in got.items():
        off, on = statistics.median(arms[False]), statistics.median(arms[True])
        table.add_row(str(size), f"{off:.2f}", f"{on:.2f}", f"{on - off:+.2f}", f"{on / off:.2f}")
    notes = [
        f"aiohttp {aiohttp.__version__}; client and server in one process and event loop, so "
        "the server's handling is in both arms alike; bursts alternate the two settings",
        "consequence: at request rate inf, vllm.benchmarks.serve's TTFT includes this client "
        "overhead and hwbench's does not (benchmarks/vllm_serve_vs_vllm_bench.txt)",
    ]
    publish("client_trust_env_cost", table, notes)


if __name__ == "__main__":
    main()
