"""`Draining`: what a shutdown does to a stream waiting for its client, and to an upload still arriving."""

from __future__ import annotations

import asyncio

import pytest

from service.draining import Draining
from service.errors import ServerShuttingDownError


def test_a_wait_is_ended_by_the_shutdown_and_leaves_nothing_running() -> None:
    async def scenario() -> set[asyncio.Task]:
        draining = Draining()
        never = asyncio.Event()
        waiting = asyncio.create_task(draining.unless_begun(never.wait()))  # a client that sends nothing
        await asyncio.sleep(0.01)
        assert await draining.unless_begun(asyncio.sleep(0, result="message")) == "message"
        draining.begin(timeout_s=10.0)
        with pytest.raises(ServerShuttingDownError):
            await waiting
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(scenario()) == set()


def test_uploads_are_cut_off_one_second_before_the_timeout_not_at_the_start() -> None:
    async def scenario() -> tuple[bytes, float]:
        draining = Draining()
        loop = asyncio.get_running_loop()
        draining.begin(timeout_s=1.5)
        started = loop.time()
        chunk = await draining.unless_cut_off(asyncio.sleep(0.1, result=b"chunk"))  # still arriving: accepted
        with pytest.raises(ServerShuttingDownError):
            await draining.unless_cut_off(asyncio.sleep(10))  # a client trickling slower than the deadline
        return chunk, loop.time() - started

    chunk, cut_off_after_s = asyncio.run(scenario())
    assert chunk == b"chunk"
    assert 0.7 <= cut_off_after_s < 1.0  # max(1.5 - 1, 1.5 / 2)
