"""Graceful shutdown: open streams flush their finals and close 1001, unfinished uploads get a 503, in bounded time.

uvicorn's own shutdown closes every WebSocket at once with 1012 and waits for HTTP requests without a limit unless
told one. `DrainingServer` first tells the app (`Draining`) and gives its streams the time to deliver what they have
heard; uvicorn's shutdown then gets what is left of `ASR_SHUTDOWN_TIMEOUT_S`, after which it cancels what still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Iterator
from typing import TypeVar

import uvicorn

from service.errors import ServerShuttingDownError

T = TypeVar("T")

# Time kept after an upload is cut off, to send its 503 before uvicorn cancels what still runs.
_RESPONSE_MARGIN_S = 1.0


class Draining:
    """The app's view of a shutdown: whether it has begun, when uploads are cut off, and the streams still open."""

    def __init__(self) -> None:
        self.begun = asyncio.Event()
        self.uploads_cut_off = asyncio.Event()
        self.open_streams = 0

    def begin(self, timeout_s: float) -> None:
        """Start draining: streams flush now; uploads still arriving are cut off shortly before `timeout_s`."""
        self.begun.set()
        cut_off_s = max(timeout_s - _RESPONSE_MARGIN_S, timeout_s / 2)
        asyncio.get_running_loop().call_later(cut_off_s, self.uploads_cut_off.set)

    @contextlib.contextmanager
    def stream(self) -> Iterator[None]:
        """Count a WebSocket stream as open for the block's duration, so the shutdown waits for it."""
        self.open_streams += 1
        try:
            yield
        finally:
            self.open_streams -= 1

    async def unless_begun(self, awaitable: Awaitable[T]) -> T:
        """Return what `awaitable` gives; `ServerShuttingDownError` if the shutdown begins first."""
        return await _first_or_raise(awaitable, self.begun)

    async def unless_cut_off(self, awaitable: Awaitable[T]) -> T:
        """Return what `awaitable` gives; `ServerShuttingDownError` if uploads are cut off first."""
        if not self.begun.is_set():
            return await awaitable  # the usual case: no task per body chunk while the server runs
        return await _first_or_raise(awaitable, self.uploads_cut_off)


async def _first_or_raise(awaitable: Awaitable[T], event: asyncio.Event) -> T:
    if event.is_set():
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never started: closed, so it is not reported as never awaited
        raise ServerShuttingDownError("the server is shutting down; retry on another replica or in a moment")
    task = asyncio.ensure_future(awaitable)
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()  # the caller is being cancelled (uvicorn's shutdown timeout): nothing may outlive it
        raise
    finally:
        waiter.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise ServerShuttingDownError("the server is shutting down; retry on another replica or in a moment")
    return task.result()


class DrainingServer(uvicorn.Server):
    """uvicorn's server whose shutdown drains the app first, and exits within `config.timeout_graceful_shutdown`."""

    def __init__(self, config: uvicorn.Config, draining: Draining) -> None:
        if config.timeout_graceful_shutdown is None:
            raise ValueError("DrainingServer needs config.timeout_graceful_shutdown: the drain must end")
        super().__init__(config)
        self.draining = draining

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        timeout_s = self.config.timeout_graceful_shutdown or 0.0
        started = time.monotonic()
        for server in self.servers:  # no new connections while the open ones drain
            server.close()
        self.draining.begin(timeout_s)
        deadline = started + timeout_s
        # A second Ctrl+C (force_exit) skips the wait, as in uvicorn's own shutdown.
        while self.draining.open_streams and not self.force_exit and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # uvicorn's shutdown closes what is left (HTTP requests, streams past the limit: 1012) in the time remaining.
        self.config.timeout_graceful_shutdown = max(timeout_s - (time.monotonic() - started), 0.1)
        await super().shutdown(sockets)
