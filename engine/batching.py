"""Micro-batching with fair turns: the chunks of concurrent requests share padded model calls, one request's turn
after another's.

The exported graph is batch-invariant (padded rows are masked by `audio_length`), so joining requests changes
nothing but throughput. Each request submits its chunks through its own `Lane`; the worker fills a batch by taking
one chunk from each lane with work in turn (round-robin, as Triton's and TF Serving's per-model queues are drained
fairly), so a short request beside long uploads waits for about one model call, not for their hundreds of chunks.
The worker lets chunks join for up to `max_wait_ms` (or until `max_batch_size`) and runs the blocking model call in
a worker thread so the event loop keeps accepting uploads meanwhile.

A lane that is closed (its request answered, failed, or abandoned by its client) takes its chunks out of the queue
and cancels their futures: a request that is gone costs no more model calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

logger = logging.getLogger(__name__)

T = TypeVar("T")
BatchFn = Callable[[Sequence[np.ndarray]], list[T]]  # one result (e.g. logits) per input, in order


@dataclass
class _Pending(Generic[T]):
    audio: np.ndarray
    result: asyncio.Future[T]


class Lane(Generic[T]):
    """One request's place in the batcher: its chunks wait here for their turn."""

    def __init__(self, batcher: MicroBatcher[T]) -> None:
        self._batcher = batcher
        self.waiting: deque[_Pending[T]] = deque()
        self.closed = False

    async def logits(self, chunks: Sequence[np.ndarray]) -> list[T]:
        """Return `batch_fn`'s result for each of `chunks`, in order, once their batches have run."""
        if self.closed:
            raise RuntimeError("this request's lane is closed")
        loop = asyncio.get_running_loop()
        entries = [_Pending(chunk, loop.create_future()) for chunk in chunks]
        self._batcher._enqueue(self, entries)
        try:
            return list(await asyncio.gather(*(entry.result for entry in entries)))
        finally:
            # Cancelled or failed half-way: chunks not yet taken must not reach the model.
            self._drop(entries)

    def _drop(self, entries: list[_Pending[T]]) -> None:
        for entry in entries:
            with contextlib.suppress(ValueError):  # already taken by the worker
                self.waiting.remove(entry)
            entry.result.cancel()  # a no-op for a result already set

    def close(self) -> None:
        """Take this request's waiting chunks out of the queue and cancel them."""
        self.closed = True
        self._drop(list(self.waiting))
        self._batcher._forget(self)


class MicroBatcher(Generic[T]):
    """Batches the chunks of every open `lane` for `batch_fn`, a blocking call run off the event loop."""

    def __init__(
        self,
        batch_fn: BatchFn[T],
        *,
        max_batch_size: int,
        max_wait_ms: float,
        on_batch: Callable[[int], None] = lambda size: None,
    ) -> None:
        self._batch_fn = batch_fn
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self._ready: deque[Lane[T]] = deque()  # lanes with waiting chunks, in the order of their next turn
        self._work = asyncio.Event()
        self._on_batch = on_batch
        # One thread: the model call is itself multi-threaded (TF intra-op), and batches queue behind it.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr-model")
        self._worker: asyncio.Task[None] | None = None

    @property
    def waiting_chunks(self) -> int:
        """Chunks queued for the model, all lanes together."""
        return sum(len(lane.waiting) for lane in self._ready)

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[Lane[T]]:
        """Open a lane for one request; on leaving the block its chunks still waiting are dropped."""
        lane: Lane[T] = Lane(self)
        try:
            yield lane
        finally:
            lane.close()

    def start(self) -> None:
        """Start the worker task on the running event loop."""
        self._work = asyncio.Event()  # bound to this loop
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="asr-micro-batcher")

    async def stop(self) -> None:
        """Stop the worker and cancel the chunks still waiting."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for lane in list(self._ready):
            lane.close()
        self._executor.shutdown(wait=True)

    def _enqueue(self, lane: Lane[T], entries: list[_Pending[T]]) -> None:
        if not entries:
            return
        if lane not in self._ready:
            self._ready.append(lane)
        lane.waiting.extend(entries)
        self._work.set()

    def _forget(self, lane: Lane[T]) -> None:
        with contextlib.suppress(ValueError):
            self._ready.remove(lane)

    def _take(self, limit: int) -> list[_Pending[T]]:
        """Take up to `limit` chunks, one per lane in turn; a lane goes to the back after each chunk it gives."""
        batch: list[_Pending[T]] = []
        while len(batch) < limit and self._ready:
            lane = self._ready.popleft()
            if not lane.waiting:
                continue  # its chunks were dropped (cancelled) after it took its place
            entry = lane.waiting.popleft()
            if lane.waiting:
                self._ready.append(lane)
            if not entry.result.done():
                batch.append(entry)
        if not self._ready:
            self._work.clear()
        return batch

    async def _collect_batch(self) -> list[_Pending[T]]:
        await self._work.wait()
        batch = self._take(self.max_batch_size)
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while len(batch) < self.max_batch_size:
            remaining_s = deadline - asyncio.get_running_loop().time()
            if remaining_s <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._work.wait(), remaining_s)
            batch.extend(self._take(self.max_batch_size - len(batch)))
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [pending for pending in await self._collect_batch() if not pending.result.done()]
            if not batch:
                continue
            self._on_batch(len(batch))
            try:
                results = await loop.run_in_executor(
                    self._executor, self._batch_fn, [pending.audio for pending in batch]
                )
            except Exception as error:  # noqa: BLE001 - handed to every request of the batch
                logger.exception("model call failed for a batch of %d", len(batch))
                for pending in batch:
                    if not pending.result.done():
                        pending.result.set_exception(error)
                continue
            for pending, result in zip(batch, results, strict=True):
                if not pending.result.done():
                    pending.result.set_result(result)
