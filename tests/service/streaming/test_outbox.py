"""A client that stops reading its events loses its stream instead of stalling the decoder."""

from __future__ import annotations

import asyncio

import pytest

from service.errors import SlowClientError
from service.streaming.outbox import EventOutbox


def test_events_pile_up_behind_a_stalled_socket_until_the_client_is_dropped() -> None:
    async def scenario() -> list[dict]:
        sent: list[dict] = []
        socket_free = asyncio.Event()

        async def send(event: dict) -> None:  # a socket whose peer stopped reading: the first write never returns
            await socket_free.wait()
            sent.append(event)

        outbox = EventOutbox(send, max_pending=3)
        outbox.start()
        await asyncio.sleep(0)
        outbox.put({"n": 0})
        await asyncio.sleep(0)  # the writer takes event 0 and blocks on the socket
        for n in range(1, 4):
            outbox.put({"n": n})
        with pytest.raises(SlowClientError):
            outbox.put({"n": 4})
        assert await outbox.close(timeout_s=0.05) is False
        return sent

    assert asyncio.run(scenario()) == []


def test_a_reading_client_gets_every_event_in_order_and_the_last_one() -> None:
    async def scenario() -> list[dict]:
        sent: list[dict] = []

        async def send(event: dict) -> None:
            sent.append(event)

        outbox = EventOutbox(send, max_pending=2)
        outbox.start()
        for n in range(5):
            outbox.put({"n": n})
            await asyncio.sleep(0)
        assert await outbox.close({"n": "last"})
        return sent

    assert [event["n"] for event in asyncio.run(scenario())] == [0, 1, 2, 3, 4, "last"]
