"""The service's Prometheus metrics (prometheus-client), in a registry of its own per app:
requests by route and status, their latency, the batches the batcher formed (requests and
texts in each, time in the runtime) and the queue's depth, served as `GET /metrics`."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServiceMetrics:
    def __init__(self, queue_depth: Callable[[], int]):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "textclf_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "textclf_request_seconds",
            "time from request to answer",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_requests = Histogram(
            "textclf_batch_requests",
            "requests served together in one batch",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_texts = Histogram(
            "textclf_batch_texts",
            "texts in one batch",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "textclf_batch_seconds",
            "time a batch spent in the runtime",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        depth = Gauge("textclf_queue_depth", "requests waiting", registry=self.registry)
        depth.set_function(queue_depth)

    def observe_batch(self, requests: int, texts: int, seconds: float) -> None:
        self.batch_requests.observe(requests)
        self.batch_texts.observe(texts)
        self.batch_seconds.observe(seconds)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def text(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware counting every HTTP request by route and status, with its latency (a
    plain ASGI wrapper: Starlette's BaseHTTPMiddleware costs a task per request)."""

    def __init__(self, app, metrics: ServiceMetrics, routes: set[str]):
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def tracked_send(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        finally:
            route = scope["path"] if scope["path"] in self.routes else "other"
            self.metrics.observe_request(route, status[0], time.perf_counter() - started)
