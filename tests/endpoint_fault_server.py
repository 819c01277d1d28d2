"""A small OpenAI-compatible server for the endpoint tests, on 127.0.0.1 in a thread of the
test process, that fails in the way the model name asks:

  ok          streams max_tokens chunks and a usage chunk (prompt tokens: words of the text)
  http-429    429 on every request;  http-500  500 on every request
  half-429    429 on every second request (an error rate of 1/2)
  cut         two chunks, then the connection is dropped (no [DONE])
  overlong    3 tokens more than max_tokens (a server that ignores it)
  short       stops after 2 tokens (a server that ignores ignore_eos and meets an EOS)
  slow        waits SLOW_S before answering (the per-request timeout)
A model the server does not list gets vLLM's 404; with `key` set, a request without
`Authorization: Bearer KEY` gets 401. Prompt log-probabilities are refused with a 400, as
servers without vLLM's extension refuse an unknown parameter. Over TLS with a self-signed
certificate (`self_signed`) when asked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # the dropped connections

SLOW_S = 2.0
MODELS = web.AppKey("models", list)
KEY = web.AppKey("key", str)
SEEN = web.AppKey("seen", list)  # (path, headers, payload) of every request
COUNT = web.AppKey("count", itertools.count)
FAULTS = ("ok", "http-429", "http-500", "half-429", "cut", "overlong", "short", "slow")


def error(status: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "Error", "code": status}}
    return web.json_response(body, status=status)


def refused(request: web.Request) -> web.Response | None:
    key = request.app[KEY]
    if key and request.headers.get("Authorization") != f"Bearer {key}":
        return error(401, "Unauthorized")
    return None


async def models(request: web.Request) -> web.Response:
    request.app[SEEN].append((request.path, dict(request.headers), None))
    if no := refused(request):
        return no
    data = [{"id": m, "object": "model", "owned_by": "test"} for m in request.app[MODELS]]
    return web.json_response({"object": "list", "data": data})


async def version(request: web.Request) -> web.Response:
    return web.json_response({"version": "fault-server-1"})


def chunk(text: str, chat: bool) -> bytes:
    choice = {"index": 0, "delta": {"content": text}} if chat else {"index": 0, "text": text}
    return f"data: {json.dumps({'choices': [choice]})}\n\n".encode()


async def complete(request: web.Request) -> web.StreamResponse:
    payload = await request.json()
    request.app[SEEN].append((request.path, dict(request.headers), payload))
    if no := refused(request):
        return no
    model = payload.get("model")
    if model not in request.app[MODELS]:
        return error(404, f"The model `{model}` does not exist.")
    if "prompt_logprobs" in payload:
        return error(400, "Unknown parameter: prompt_logprobs")
    if model == "http-429" or (model == "half-429" and next(request.app[COUNT]) % 2):
        return error(429, "Too many requests: slow down")
    if model == "http-500":
        return error(500, "engine died")
    if model == "slow":
        await asyncio.sleep(SLOW_S)
    chat = "messages" in payload
    text = payload["messages"][0]["content"] if chat else payload["prompt"]
    asked = payload["max_completion_tokens" if chat else "max_tokens"]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    made = {"overlong": asked + 3, "short": min(2, asked)}.get(model, asked)
    for i in range(made):
        await asyncio.sleep(0.002)
        await response.write(chunk(f" t{i}", chat))
        if model == "cut" and i == 1:
            request.transport.close()  # the connection dropped mid-stream
            return response
    usage = {"prompt_tokens": len(text.split()), "completion_tokens": made}
    await response.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    return response


@contextmanager
def fault_server(
    served: list[str] | None = None, key: str = "", tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, web.Application]]:
    """(the server's /v1 URL, its app), serving `served` (default: every fault), over TLS
    with the `tls` context when given."""
    app = web.Application()
    app[MODELS], app[KEY], app[SEEN], app[COUNT] = (
        list(served or FAULTS),
        key,
        [],
        itertools.count(),
    )
    app.router.add_get("/v1/models", models)
    app.router.add_get("/version", version)
    app.router.add_post("/v1/completions", complete)
    app.router.add_post("/v1/chat/completions", complete)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    loop.run_until_complete(web.SockSite(runner, sock, ssl_context=tls).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        scheme = "https" if tls else "http"
        yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}/v1", app
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def self_signed(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 that no one signed (openssl)."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
