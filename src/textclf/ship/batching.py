"""Dynamic batching for the service: concurrent requests wait in one bounded queue and one
inference worker (a thread that alone owns the tokenizer and the runtime, so no lock is
needed) takes them in batches: everything already waiting, up to a token budget, and when
other requests are waiting too, up to `max_wait_ms` more for stragglers. A lone client never
waits. Inside a batch the runtime sorts the texts by length (textclf.modeling.inference's batching),
and each request gets its own rows back.

A full queue refuses at once (`QueueFull`: the service answers 503 with Retry-After) instead of
letting memory and latency grow without bound."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


class QueueFull(Exception):
    """The batcher's queue holds `max_queue` requests already."""


@dataclass
class Job:
    texts: list[str]
    tokens: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    queued_at: float = field(default_factory=time.perf_counter)


def estimated_tokens(texts: Sequence[str], max_tokens: int) -> int:
    """A cheap upper-bound guess of the texts' tokens (about 4 characters a token, at most the
    model's input), for the batch budget: counting exactly would mean tokenizing twice."""
    return sum(min(max_tokens, len(text) // 4 + 2) for text in texts) if texts else 0


class Batcher:
    """`await submit(texts)` -> their class probabilities, computed in batches by one thread."""

    def __init__(
        self,
        probabilities: Callable[[list[str]], np.ndarray],
        max_tokens_per_text: int = 512,
        max_batch_tokens: int = 16_384,
        max_wait_ms: float = 2.0,
        max_queue: int = 512,
        observe: Callable[[int, int, float], None] | None = None,
    ):
        self.probabilities = probabilities
        self.max_tokens_per_text = max_tokens_per_text
        self.max_batch_tokens = max_batch_tokens
        self.max_wait = max_wait_ms / 1000
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=max_queue)
        self.observe = observe or (lambda requests, texts, seconds: None)
        self.carry: Job | None = None  # a job that did not fit the last batch's budget
        self.worker = threading.Thread(target=self.work, name="inference", daemon=True)
        self.worker.start()

    @property
    def depth(self) -> int:
        return self.jobs.qsize()

    async def submit(self, texts: list[str]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        job = Job(
            texts, estimated_tokens(texts, self.max_tokens_per_text), loop, loop.create_future()
        )
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            raise QueueFull from None
        return await job.future

    def close(self) -> None:
        """Stop the worker after the jobs already queued."""
        self.jobs.put(None)
        self.worker.join(timeout=30)

    def next_batch(self) -> list[Job] | None:
        first = self.carry or self.jobs.get()
        self.carry = None
        if first is None:
            return None
        batch, tokens = [first], first.tokens
        deadline = time.perf_counter() + self.max_wait
        while tokens < self.max_batch_tokens:
            try:
                waiting = not self.jobs.empty() or len(batch) > 1
                timeout = deadline - time.perf_counter() if waiting else 0
                job = self.jobs.get(timeout=timeout) if timeout > 0 else self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self.jobs.put(None)  # stop after this batch
                break
            if tokens + job.tokens > self.max_batch_tokens:
                self.carry = job
                break
            batch.append(job)
            tokens += job.tokens
        return batch

    def work(self) -> None:
        while (batch := self.next_batch()) is not None:
            texts = [text for job in batch for text in job.texts]
            started = time.perf_counter()
            try:
                result = self.probabilities(texts)
            except Exception as error:  # handed to each waiting request, which answers 500
                for job in batch:
                    job.loop.call_soon_threadsafe(_fail, job.future, error)
                continue
            self.observe(len(batch), len(texts), time.perf_counter() - started)
            start = 0
            for job in batch:
                rows = result[start : start + len(job.texts)]
                start += len(job.texts)
                job.loop.call_soon_threadsafe(_finish, job.future, rows)


def _finish(future: asyncio.Future, rows: np.ndarray) -> None:
    if not future.done():  # the client may have gone away
        future.set_result(rows)


def _fail(future: asyncio.Future, error: Exception) -> None:
    if not future.done():
        future.set_exception(error)
