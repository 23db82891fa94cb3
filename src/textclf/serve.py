"""Serve a shipped model folder over HTTP (FastAPI + uvicorn), with dynamic batching.

    textclf serve --model models/model --host 127.0.0.1 --port 8000
    python -m textclf.serve ...          (the same)

The routes are described in `textclf.ship.service`, the batching in `textclf.ship.batching`.
The port answers at once; `GET /ready` says when the model is loaded. SIGTERM (or Ctrl-C)
stops taking new connections and lets the requests in flight finish, for at most 30 s; a body
that stops arriving for --body-timeout seconds is answered 408, so no client holds the
shutdown open.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

import uvicorn

from textclf.config.arguments import (
    OneLineParser,
    description,
    milliseconds,
    port_number,
    positive_int,
    seconds,
)
from textclf.config.errors import UserError
from textclf.config.paths import MODEL_DIR
from textclf.ship.body_limit import BODY_READ_TIMEOUT_S, BODY_TOTAL_TIMEOUT_S
from textclf.ship.runtime import RUNTIMES
from textclf.ship.service import MAX_BATCH, MAX_BODY_BYTES, create_app

GRACEFUL_SHUTDOWN_S = 30  # after SIGTERM, requests in flight get this long to finish


def main(argv: Sequence[str] | None = None, prog: str = "textclf serve") -> None:
    parser = OneLineParser(prog=prog, description=description(__doc__))
    parser.add_argument(
        "--model", default=str(MODEL_DIR), help="model folder (default: %(default)s)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=8000)
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto")
    parser.add_argument(
        "--max-batch", type=positive_int, default=MAX_BATCH, help="texts per request (413 above)"
    )
    parser.add_argument(
        "--max-batch-tokens",
        type=positive_int,
        default=16_384,
        help="token budget of one batch of concurrent requests (default: %(default)s)",
    )
    parser.add_argument(
        "--max-wait-ms",
        type=milliseconds,
        default=2.0,
        help="how long a batch waits for stragglers while others wait (default: %(default)s)",
    )
    parser.add_argument(
        "--max-queue",
        type=positive_int,
        default=512,
        help="requests waiting at most; more get 503 with Retry-After (default: %(default)s)",
    )
    parser.add_argument(
        "--max-body-bytes", type=positive_int, default=MAX_BODY_BYTES, help="413 above"
    )
    parser.add_argument(
        "--body-timeout",
        type=seconds,
        default=BODY_READ_TIMEOUT_S,
        help="a request whose body stops arriving for this many seconds gets 408 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--body-deadline",
        type=seconds,
        default=BODY_TOTAL_TIMEOUT_S,
        help="a request whose whole body has not arrived after this many seconds gets 408, "
        "however it trickles in (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        app = create_app(
            args.model,
            args.runtime,
            args.max_batch,
            args.max_body_bytes,
            args.max_batch_tokens,
            args.max_wait_ms,
            args.max_queue,
            load_now=False,
            body_timeout=args.body_timeout,
            body_deadline=args.body_deadline,
        )
        listening = bound_socket(args.host, args.port)
    except UserError as failure:
        raise SystemExit(f"error: {failure}") from None
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"serving {args.model} at http://{host}:{args.port}/ (the demo page; POST /predict; "
        "`ready:` below once the model is loaded; Ctrl-C stops)",
        flush=True,
    )
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    uvicorn.Server(config).run(sockets=[listening])


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (uvicorn listens on it): a host that does not resolve or
    a port in use is one line here, before the service starts."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except (socket.gaierror, UnicodeError) as failure:
        raise UserError(f"--host {host}: not an address of this machine ({failure})") from None
    listening = socket.socket(family, kind, protocol)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind(address)
    except OSError as failure:
        listening.close()
        reason = failure.strerror or str(failure)
        if failure.errno == errno.EADDRINUSE:
            raise UserError(f"--port {port}: already in use on {host}: pick another") from None
        raise UserError(f"--host {host} --port {port}: cannot listen there ({reason})") from None
    return listening


if __name__ == "__main__":
    main()
