"""`MicroBatcher`: joins concurrent requests, routes each result back, refuses work past its queue."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from service.batching import MicroBatcher
from service.core.errors import QueueFullError


def describe(batch):
    """A batch function whose answer says which input and which batch it came from."""
    return [f"{int(audio[0])}/{len(batch)}" for audio in batch]


def test_concurrent_submissions_share_a_batch_and_get_their_own_result():
    async def scenario():
        batcher = MicroBatcher(describe, max_batch_size=4, max_wait_ms=50, max_queue_size=16)
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit(np.full(3, i, np.float32)) for i in range(6)))
        finally:
            await batcher.stop()

    results = asyncio.run(scenario())
    assert [result.split("/")[0] for result in results] == [str(i) for i in range(6)]
    assert sorted(int(result.split("/")[1]) for result in results) == [2, 2, 4, 4, 4, 4]


def test_full_queue_is_refused_and_model_errors_reach_every_caller():
    entered, release = threading.Event(), threading.Event()

    def blocked(batch):
        entered.set()
        release.wait(timeout=10)
        raise RuntimeError("model exploded")

    async def scenario():
        batcher = MicroBatcher(blocked, max_batch_size=1, max_wait_ms=0, max_queue_size=2)
        batcher.start()
        try:
            running = asyncio.ensure_future(batcher.submit(np.zeros(1, np.float32)))
            # The worker now holds the first request inside the model call.
            assert await asyncio.to_thread(entered.wait, 10)
            queued = [asyncio.ensure_future(batcher.submit(np.zeros(1, np.float32))) for _ in range(2)]
            await asyncio.sleep(0)  # one turn of the loop: each new task runs up to its put into the queue
            assert batcher.queue_depth == 2
            with pytest.raises(QueueFullError):
                await batcher.submit(np.zeros(1, np.float32))
            release.set()
            return await asyncio.gather(running, *queued, return_exceptions=True)
        finally:
            await batcher.stop()

    outcomes = asyncio.run(scenario())
    assert [str(outcome) for outcome in outcomes] == ["model exploded"] * 3
