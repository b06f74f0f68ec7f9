"""ASGI middleware of the server: a cap on request bodies, and one JSON line per request."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kbengine.server.errors import TooLarge

access_log = logging.getLogger("kbengine.server.access")
access_log.setLevel(logging.INFO)  # logged whatever level the root logger has


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413 before the app sees any of it.

    The body is read here (at most `limit` bytes are kept) and handed on whole, so a body sent in
    chunks without a Content-Length is capped too."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = TooLarge(f"the request body is over the limit of {self.limit:,} bytes", limit=self.limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await send_json(send, 413, too_large.body())
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await send_json(send, 413, too_large.body())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the client to disconnect

        await self.app(scope, replay, send)


class AccessLog:
    """One JSON line per request on the `kbengine.server.access` logger: time, who, what, status,
    milliseconds. The query string is left out: it may hold what a caller typed about a person."""

    def __init__(self, app: ASGIApp, who: Callable[[Scope], str] | None = None) -> None:
        self.app = app
        self.who = who

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            client = scope.get("client")
            access_log.info(json.dumps({
                "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "method": scope.get("method"),
                "path": scope.get("path"), "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "user": scope.get("state", {}).get("user", ""),
                "client": client[0] if client else ""}))
