"""Events on their way to a client that may read slowly: a bounded queue drained by one writer task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from service.errors import SlowClientError

SendFn = Callable[[dict[str, object]], Awaitable[None]]


class EventOutbox:
    """Queues events for `send`; when `max_pending` are waiting, the client is not reading: `SlowClientError`.

    A stream's decoder never waits on the client's socket, so a stalled reader cannot hold model work (or the
    event loop) hostage; it loses its stream instead.
    """

    def __init__(self, send: SendFn, max_pending: int) -> None:
        self._send = send
        self.max_pending = max_pending
        self._queue: asyncio.Queue[dict[str, object] | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._run(), name="asr-stream-writer")

    def put(self, event: dict[str, object]) -> None:
        """Queue `event`; `SlowClientError` if the client has left too many unread."""
        if self._queue.qsize() >= self.max_pending:
            raise SlowClientError(
                f"{self.max_pending} events are waiting for the client to read them; closing the stream"
            )
        self._queue.put_nowait(event)

    async def close(self, last: dict[str, object] | None = None, timeout_s: float = 5.0) -> bool:
        """Send `last` (if any) after what is queued, and wait up to `timeout_s`; return whether all went out."""
        if last is not None:
            self._queue.put_nowait(last)
        self._queue.put_nowait(None)
        if self._writer is None:
            return False
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout_s)
        except (TimeoutError, Exception):  # noqa: BLE001 - a client gone or stalled: nothing more to send
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
            return False
        return True

    async def _run(self) -> None:
        while (event := await self._queue.get()) is not None:
            await self._send(event)
