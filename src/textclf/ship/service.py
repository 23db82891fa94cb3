"""The HTTP prediction service for a shipped model folder (a FastAPI app; `textclf serve` runs
it with uvicorn).

    POST /predict  {"texts": ["Stocks rally as oil prices fall", ...]}
                   or {"records": [{"title": "...", "description": "..."}, ...]}
                   (records: the training data's text columns, joined as in training)
         -> {"predictions": [{"label": "Business", "score": 0.97,
                              "probabilities": {"World": 0.01, ...}}, ...]}
            a multi-label model: {"labels": [every label at or above its threshold],
                                  "probabilities": {...}} per text
    GET  /health   -> {"status": "ok", "runtime": "onnx", "classes": [...]}
    GET  /classes  -> {"classes": [...]}

The model is loaded once, at start. A bad request gets a 4xx answer with one line in
`{"error": ...}`: malformed JSON (400), too large a body or batch (413), a wrong shape or type
(422).
"""

from __future__ import annotations

import threading

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictStr

from textclf.data.text import join_text
from textclf.ship.runtime import checkpoint_settings, load
from textclf.train.model import MODEL_DIR

MAX_BATCH = 256
MAX_BODY_BYTES = 1_000_000


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] | None = None
    records: list[dict[str, StrictStr | None]] | None = None


def create_app(
    model_dir: str = str(MODEL_DIR),
    runtime: str = "auto",
    max_batch: int = MAX_BATCH,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The service for `model_dir`, with the model loaded (once, here)."""
    classifier = load(model_dir, runtime)
    settings = checkpoint_settings(model_dir)
    text_columns = settings.get("text_columns") or ["title", "description"]
    inference = threading.Lock()
    app = FastAPI(title="textclf", description="Text classification with a textclf model")

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body_bytes:
            return error(413, f"body of {declared} bytes; the limit is {max_body_bytes}")
        if len(await request.body()) > max_body_bytes:
            return error(413, f"body over {max_body_bytes} bytes")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def one_line(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            return error(400, "body is not valid JSON")
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"][1:]
        ).lstrip(".")
        return error(422, f"{where or 'body'}: {first['msg']}")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "runtime": classifier.runtime, "classes": classifier.classes}

    @app.get("/classes")
    def classes() -> dict:
        return {"classes": classifier.classes}

    @app.post("/predict", response_model=None)
    def predict(body: PredictRequest) -> JSONResponse | dict:
        if (body.texts is None) == (body.records is None):
            return error(422, 'give either "texts" or "records"')
        if body.records is not None:
            missing = [c for c in text_columns if any(c not in r for r in body.records)]
            if missing:
                return error(422, f"records need the text columns {', '.join(text_columns)}")
            texts = join_text(
                pd.DataFrame(body.records), text_columns, settings.get("clean_backslashes", True)
            ).tolist()
        else:
            texts = body.texts
        if not texts:
            return error(422, "no texts: send at least one")
        if len(texts) > max_batch:
            return error(413, f"batch of {len(texts)} texts; the limit is {max_batch}")
        # one request at a time: a fast tokenizer shared between threads can fail ("Already
        # borrowed"), and the model uses every core anyway
        with inference:
            probabilities = classifier.probabilities(texts)
        names = classifier.classes
        predictions = []
        for row, labels in zip(probabilities, classifier.decisions(probabilities), strict=True):
            scores = {name: round(float(p), 6) for name, p in zip(names, row, strict=True)}
            if classifier.multi_label:
                predictions.append({"labels": labels, "probabilities": scores})
            else:
                predictions.append(
                    {"label": labels[0], "score": max(scores.values()), "probabilities": scores}
                )
        return {"predictions": predictions}

    return app
