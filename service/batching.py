"""Micro-batching: concurrent requests share one padded model call instead of queueing one by one.

The exported graph is batch-invariant (padded rows are masked by `audio_length`), so joining requests
changes nothing but throughput. One worker task takes the first waiting request, lets others join for
up to `max_wait_ms` (or until `max_batch_size`), and runs the blocking model call in a worker thread so
the event loop keeps accepting uploads meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from service.core.errors import QueueFullError

logger = logging.getLogger(__name__)

T = TypeVar("T")
BatchFn = Callable[[Sequence[np.ndarray]], list[T]]  # one result (e.g. logits) per input, in order


@dataclass
class _Pending(Generic[T]):
    audio: np.ndarray
    result: asyncio.Future[T]


class MicroBatcher(Generic[T]):
    """Collects `submit`ted utterances into batches for `batch_fn`, a blocking call run off the event loop."""

    def __init__(
        self,
        batch_fn: BatchFn[T],
        *,
        max_batch_size: int,
        max_wait_ms: float,
        max_queue_size: int,
        on_batch: Callable[[int], None] = lambda size: None,
    ) -> None:
        self._batch_fn = batch_fn
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self._queue: asyncio.Queue[_Pending[T]] = asyncio.Queue(maxsize=max_queue_size)
        self._on_batch = on_batch
        # One thread: the model call is itself multi-threaded (TF intra-op), and batches queue behind it.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr-model")
        self._worker: asyncio.Task[None] | None = None

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        """Start the worker task on the running event loop."""
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="asr-micro-batcher")

    async def stop(self) -> None:
        """Stop the worker and fail requests still waiting."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.result.done():
                pending.result.cancel()
        self._executor.shutdown(wait=True)

    async def submit(self, audio: np.ndarray) -> T:
        """Return `batch_fn`'s result for `audio` once its batch has run; `QueueFullError` if too many wait."""
        pending = _Pending(audio, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            raise QueueFullError(
                f"the server is busy: {self._queue.maxsize} requests are already waiting for the model"
            ) from None
        return await pending.result

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect_batch()
            batch = [pending for pending in batch if not pending.result.cancelled()]
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

    async def _collect_batch(self) -> list[_Pending[T]]:
        batch = [await self._queue.get()]
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while len(batch) < self.max_batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining_s = deadline - asyncio.get_running_loop().time()
            if remaining_s <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining_s))
            except TimeoutError:
                break
        return batch
