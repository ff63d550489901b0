"""Work that stops when its client leaves: a request's transcription is cancelled on `http.disconnect`.

Starlette lets a handler run to its end after the client has gone, so an abandoned hour of audio would keep the
model busy for minutes. Once the body is read, the server's `receive()` has nothing left to give but the
disconnect, so waiting on it beside the work tells us the moment the client leaves; the work is then cancelled,
which drops its chunks from the model's queue (engine.batching) and frees its audio.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

from service.errors import ClientDisconnectedError

T = TypeVar("T")


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Return `work`'s result; if the client disconnects first, cancel it and raise `ClientDisconnectedError`."""
    work_task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({work_task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if work_task.done():
            return work_task.result()
        raise ClientDisconnectedError("the client closed the connection before the transcript was ready")
    finally:
        for task in (watcher, work_task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
