"""Request body limits that hold while the body streams in: an ASGI middleware that counts
the bytes as they arrive (a declared Content-Length over the limit is refused before any is
read; a chunked upload once it passes the limit), so a 300 MB upload costs the server nothing
beyond the limit; and that gives each part of the body at most `read_timeout` seconds and the
whole body at most `total_timeout`, so a client that stops sending mid-body, or sends a byte
now and then, gets 408 instead of holding a connection (and a graceful shutdown) for as long as
it likes."""

from __future__ import annotations

import asyncio
import json

BODY_READ_TIMEOUT_S = 30.0
BODY_TOTAL_TIMEOUT_S = 120.0  # a 64 MB body at 1 MB/s


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BodyLimit:
    def __init__(
        self,
        app,
        max_bytes: int,
        read_timeout: float = BODY_READ_TIMEOUT_S,
        total_timeout: float = BODY_TOTAL_TIMEOUT_S,
    ):
        self.app, self.max_bytes, self.read_timeout = app, max_bytes, read_timeout
        self.total_timeout = total_timeout

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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_timeout

        async def counted_receive():
            nonlocal received, complete
            if complete:  # after the body: waiting for a disconnect is not a read to time
                return await receive()
            left = deadline - loop.time()
            try:
                message = await asyncio.wait_for(receive(), min(self.read_timeout, left))
            except TimeoutError:
                if left <= self.read_timeout:
                    raise BodyTimeout(
                        f"the body did not arrive whole within {self.total_timeout:g} s"
                    ) from None
                raise BodyTimeout(
                    f"no part of the body arrived for {self.read_timeout:g} s"
                ) from None
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
        except BodyTimeout as timeout:
            if not started:
                await self.refuse(send, timeout.message, status=408)
