"""`MicroBatcher`: joins concurrent requests' chunks, serves requests in turn, routes each result back, and drops
the chunks of a request that is gone."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from engine.batching import MicroBatcher


def describe(batch):
    """A batch function whose answer says which input and which batch it came from."""
    return [f"{int(audio[0])}/{len(batch)}" for audio in batch]


def chunks(*values: int) -> list[np.ndarray]:
    return [np.full(3, value, np.float32) for value in values]


def test_concurrent_requests_share_a_batch_and_get_their_own_results():
    async def scenario():
        batcher = MicroBatcher(describe, max_batch_size=4, max_wait_ms=50)
        batcher.start()
        try:
            async with batcher.lane() as first, batcher.lane() as second:
                return await asyncio.gather(first.logits(chunks(0, 1, 2)), second.logits(chunks(3, 4, 5)))
        finally:
            await batcher.stop()

    first, second = asyncio.run(scenario())
    assert [result.split("/")[0] for result in first + second] == [str(i) for i in range(6)]
    assert sorted(int(result.split("/")[1]) for result in first + second) == [2, 2, 4, 4, 4, 4]


def test_a_short_request_beside_a_long_one_rides_in_the_next_batch():
    # FIFO over chunks would run the long request's 40 queued chunks (10 batches) before the short one's.
    batches: list[list[int]] = []

    def record(batch):
        batches.append([int(audio[0]) for audio in batch])
        return describe(batch)

    async def scenario():
        batcher = MicroBatcher(record, max_batch_size=4, max_wait_ms=0)
        batcher.start()
        try:
            async with batcher.lane() as long, batcher.lane() as short:
                long_call = asyncio.ensure_future(long.logits(chunks(*[1] * 40)))
                await asyncio.sleep(0)
                await short.logits(chunks(2))
                batches_before_short_answered = len(batches)
                await long_call
                return batches_before_short_answered
        finally:
            await batcher.stop()

    assert asyncio.run(scenario()) <= 2
    assert sum(batch.count(1) for batch in batches) == 40


def test_a_cancelled_request_takes_its_waiting_chunks_out_of_the_queue():
    entered, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def blocked(batch):
        seen.extend(int(audio[0]) for audio in batch)
        entered.set()
        release.wait(timeout=10)
        return describe(batch)

    async def scenario():
        batcher = MicroBatcher(blocked, max_batch_size=2, max_wait_ms=0)
        batcher.start()
        try:
            async with batcher.lane() as gone:
                call = asyncio.ensure_future(gone.logits(chunks(*[7] * 20)))
                assert await asyncio.to_thread(entered.wait, 10)  # its first batch of 2 is in the model
                assert batcher.waiting_chunks == 18
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
                assert batcher.waiting_chunks == 0
            release.set()
            async with batcher.lane() as next_request:
                return await next_request.logits(chunks(8))
        finally:
            release.set()
            await batcher.stop()

    assert asyncio.run(scenario()) == ["8/1"]
    assert seen == [7, 7, 8]  # the cancelled request's 18 waiting chunks never reached the model


def test_model_errors_reach_every_request_of_the_batch():
    def exploding(batch):
        raise RuntimeError("model exploded")

    async def scenario():
        batcher = MicroBatcher(exploding, max_batch_size=4, max_wait_ms=20)
        batcher.start()
        try:
            async with batcher.lane() as first, batcher.lane() as second:
                return await asyncio.gather(first.logits(chunks(1)), second.logits(chunks(2)), return_exceptions=True)
        finally:
            await batcher.stop()

    assert [str(outcome) for outcome in asyncio.run(scenario())] == ["model exploded"] * 2


def test_a_closed_lane_refuses_new_chunks():
    async def scenario():
        batcher = MicroBatcher(describe, max_batch_size=1, max_wait_ms=0)
        batcher.start()
        try:
            async with batcher.lane() as lane:
                pass
            with pytest.raises(RuntimeError, match="closed"):
                await lane.logits(chunks(1))
        finally:
            await batcher.stop()

    asyncio.run(scenario())
