"""Serve a shipped model folder over HTTP (FastAPI + uvicorn).

    textclf serve --model models/model --host 127.0.0.1 --port 8000
    python -m textclf.serve ...          (the same)

The routes are described in `textclf.ship.service`.
"""

from __future__ import annotations

from collections.abc import Sequence

import uvicorn

from textclf.config.arguments import OneLineParser, port_number, positive_int
from textclf.config.errors import UserError
from textclf.ship.runtime import RUNTIMES
from textclf.ship.service import MAX_BATCH, create_app
from textclf.train.model import MODEL_DIR


def main(argv: Sequence[str] | None = None, prog: str = "textclf serve") -> None:
    parser = OneLineParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", default=str(MODEL_DIR), help="model folder (default: %(default)s)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=8000)
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto")
    parser.add_argument(
        "--max-batch", type=positive_int, default=MAX_BATCH, help="texts per request"
    )
    args = parser.parse_args(argv)
    try:
        app = create_app(args.model, args.runtime, args.max_batch)
    except UserError as failure:
        raise SystemExit(f"error: {failure}") from None
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
