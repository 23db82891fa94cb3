"""The HTTP prediction service for a shipped model folder (a FastAPI app; `textclf serve` runs
it with uvicorn).

    POST /predict  {"texts": ["Stocks rally as oil prices fall", ...]}
                   or {"records": [{"title": "...", "description": "..."}, ...]}
                   (records: the training data's text columns, joined as in training)
         -> {"predictions": [{"label": "Business", "score": 0.97,
                              "probabilities": {"World": 0.01, ...}}, ...]}
            a multi-label model: {"labels": [every label at or above its threshold],
                                  "probabilities": {...}} per text
    POST / (and /predict)  {"inputs": "..." | ["...", ...], "parameters": {"top_k": 2}}
         -> [[{"label": "Business", "score": 0.97}, ...], ...]   (Hugging Face's shape, by
            score, one list per input: `InferenceClient(model=URL).text_classification`)
    GET  /         a demo page (no CDN: it works offline); FastAPI's /docs is off for the same
                   reason, /openapi.json describes the routes
    GET  /health   liveness: {"status": "ok" | "loading", ...}
    GET  /ready    200 once the model is loaded, 503 before
    GET  /metrics  Prometheus text format (textclf.ship.monitoring)

Requests are batched by textclf.ship.batching. Every refusal is one line in `{"error": ...}`:
malformed JSON or UTF-8 (400), a missing route (404) or method (405), a body that stops
arriving for `body_timeout` seconds or is not whole after `body_deadline` seconds (408), too
large a body or batch (413), a wrong shape or type (422), a full queue or a model still loading
(503, with Retry-After). A client that disconnects mid-body is logged as a 400, not a server
error.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import sys
import threading

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from textclf.config.paths import MODEL_DIR
from textclf.ship.batching import Batcher, QueueFull
from textclf.ship.body_limit import BODY_READ_TIMEOUT_S, BODY_TOTAL_TIMEOUT_S, BodyLimit
from textclf.ship.monitoring import RequestMetrics, ServiceMetrics
from textclf.ship.requests import BadRequest, parse_request
from textclf.ship.runtime import Classifier, checkpoint_settings, load

MAX_BATCH = 256
MAX_BODY_BYTES = 1_000_000
CPU_MICRO_BATCH, GPU_MICRO_BATCH = 4, 64
ROUTES = {"/", "/predict", "/health", "/ready", "/classes", "/metrics"}


class Service:
    """The model, loaded once (at once, or in the background for `textclf serve`), and the
    batcher that feeds it."""

    def __init__(self, model_dir: str, runtime: str, batching: dict):
        self.model_dir, self.runtime, self.batching = model_dir, runtime, batching
        self.settings = checkpoint_settings(model_dir)  # a folder with no model fails here
        self.classifier: Classifier | None = None
        self.batcher: Batcher | None = None
        self.metrics = ServiceMetrics(lambda: self.batcher.depth if self.batcher else 0)

    def load(self) -> None:
        classifier = load(self.model_dir, self.runtime)
        # a gathered batch runs in length-sorted micro-batches: on a CPU, 4 texts a run beat
        # both 1 and 32 (bench/RESULTS.md, "Service under load"); a GPU wants large ones
        on_gpu = classifier.runtime == "torch" and classifier.model.device.type != "cpu"
        micro_batch = GPU_MICRO_BATCH if on_gpu else CPU_MICRO_BATCH
        limit = getattr(classifier.tokenizer, "model_max_length", None) or 512
        self.batcher = Batcher(
            lambda texts: classifier.probabilities(texts, micro_batch),
            max_tokens_per_text=min(limit, 100_000),
            observe=self.metrics.observe_batch,
            **self.batching,
        )
        self.classifier = classifier

    def load_in_background(self) -> None:
        def load_or_exit() -> None:
            try:
                self.load()
                runtime = self.classifier.runtime if self.classifier else self.runtime
                print(f"ready: {self.model_dir} loaded ({runtime})", flush=True)
            except Exception as failure:  # a checkpoint that cannot load: say so and stop
                print(
                    f"error: {self.model_dir}: cannot load the model ({failure})", file=sys.stderr
                )
                os._exit(1)

        threading.Thread(target=load_or_exit, name="load-model", daemon=True).start()


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def create_app(
    model_dir: str = str(MODEL_DIR),
    runtime: str = "auto",
    max_batch: int = MAX_BATCH,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch_tokens: int = 16_384,
    max_wait_ms: float = 2.0,
    max_queue: int = 512,
    load_now: bool = True,
    body_timeout: float = BODY_READ_TIMEOUT_S,
    body_deadline: float = BODY_TOTAL_TIMEOUT_S,
) -> FastAPI:
    """The service for `model_dir`; `load_now=False` loads the model in the background once the
    server runs (`/ready` says when)."""
    batching = dict(max_batch_tokens=max_batch_tokens, max_wait_ms=max_wait_ms, max_queue=max_queue)
    service = Service(model_dir, runtime, batching)
    if load_now:
        service.load()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if service.classifier is None:
            service.load_in_background()
        yield
        if service.batcher is not None:  # uvicorn has let the requests in flight finish
            service.batcher.close()

    app = FastAPI(
        title="textclf",
        description="Text classification with a textclf model",
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: blank offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(
        BodyLimit,
        max_bytes=max_body_bytes,
        read_timeout=body_timeout,
        total_timeout=body_deadline,
    )
    app.add_middleware(RequestMetrics, metrics=service.metrics, routes=ROUTES)  # outermost

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        messages = {
            404: f"no route {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }
        return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        return error(500, f"internal error: {type(exc).__name__}")

    @app.get("/", response_class=HTMLResponse)
    def demo() -> str:
        return importlib.resources.files("textclf.ship").joinpath("demo.html").read_text("utf-8")

    @app.get("/health")
    def health() -> dict:
        classifier = service.classifier
        if classifier is None:
            return {"status": "loading"}
        return {"status": "ok", "runtime": classifier.runtime, "classes": classifier.classes}

    @app.get("/ready")
    def ready() -> JSONResponse:
        loaded = service.classifier is not None
        return JSONResponse({"ready": loaded}, status_code=200 if loaded else 503)

    @app.get("/classes")
    def classes() -> JSONResponse:
        if service.classifier is None:
            return error(503, "the model is still loading", {"Retry-After": "1"})
        return JSONResponse({"classes": service.classifier.classes})

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(service.metrics.text(), media_type="text/plain; version=0.0.4")

    async def predict(request: Request) -> JSONResponse:
        classifier = service.classifier
        if classifier is None or service.batcher is None:
            return error(503, "the model is still loading", {"Retry-After": "1"})
        try:
            parsed = parse_request(await request.body(), service.settings, max_batch)
            probabilities = await service.batcher.submit(parsed.texts)
        except ClientDisconnect:  # gone mid-body: nobody reads the answer; not a server error
            return error(400, "the client disconnected before its body was complete")
        except BadRequest as bad:
            return error(bad.status, str(bad))
        except QueueFull:
            return error(503, "too many requests waiting; retry shortly", {"Retry-After": "1"})
        if parsed.hf_shape:
            return JSONResponse(ranked(probabilities, classifier.classes, parsed.top_k))
        return JSONResponse({"predictions": predictions(probabilities, classifier)})

    app.add_api_route("/predict", predict, methods=["POST"])
    app.add_api_route("/", predict, methods=["POST"])
    return app


def ranked(probabilities: np.ndarray, classes: list[str], top_k: int | None) -> list:
    """Hugging Face's answer: per input, labels by score, the first `top_k` (all: None)."""
    answer = []
    for row in probabilities:
        order = np.argsort(-row, kind="stable")[:top_k]
        answer.append([{"label": classes[i], "score": round(float(row[i]), 6)} for i in order])
    return answer


def predictions(probabilities: np.ndarray, classifier: Classifier) -> list[dict]:
    names, answer = classifier.classes, []
    for row, labels in zip(probabilities, classifier.decisions(probabilities), strict=True):
        scores = {name: round(float(p), 6) for name, p in zip(names, row, strict=True)}
        if classifier.multi_label:
            answer.append({"labels": labels, "probabilities": scores})
        else:
            answer.append(
                {"label": labels[0], "score": max(scores.values()), "probabilities": scores}
            )
    return answer
