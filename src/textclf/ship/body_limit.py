"""Request body limits that hold while the body streams in: an ASGI middleware that counts
the bytes as they arrive (a declared Content-Length over the limit is refused before any is
read; a chunked upload once it passes the limit), so a 300 MB upload costs the server nothing
beyond the limit; and that gives each part of the body at most `read_timeout` seconds, so a
client that stops sending mid-body gets 408 instead of holding a connection (and a graceful
shutdown) for as long as it likes."""

from __future__ import annotations

import asyncio
import json

BODY_READ_TIMEOUT_S = 30.0


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


class BodyLimit:
    def __init__(self, app, max_bytes: int, read_timeout: float = BODY_READ_TIMEOUT_S):
        self.app, self.max_bytes, self.read_timeout = app, max_bytes, read_timeout

    async def refuse(self, send, message: str, status: int = 413) -> None:
        body = json.dumps({"error": message}, separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self.refuse(send, f"body of {int(declared)} bytes; the limit is {self.max_bytes}")
            return
        received, started, complete = 0, False, False

        async def counted_receive():
            nonlocal received, complete
            if complete:  # after the body: waiting for a disconnect is not a read to time
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout)
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracked_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await self.refuse(send, f"body over {self.max_bytes} bytes")
        except BodyTimeout:
            if not started:
                message = f"no part of the body arrived for {self.read_timeout:g} s"
                await self.refuse(send, message, status=408)
