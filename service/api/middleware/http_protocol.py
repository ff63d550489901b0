"""uvicorn's httptools protocol with a cap on the request head (request line + headers): past it, 431 and close;
and a deadline on it: a head not complete `ASR_REQUEST_HEAD_TIMEOUT_S` after the connection opened (or, kept
alive, after the next request's first byte), 408 and close.

llhttp sets no limit of its own, so a client could send megabytes of headers that are parsed on the event loop
while every other request, the health checks included, waits. h11 caps the head at 16 KiB; nginx's default is
4 x 8 KiB buffers. uvicorn has no deadline on a head either (its keep-alive timer stops at the first byte), so a
slowloris client trickling a byte every few seconds would hold its connection, a file descriptor, forever; nginx's
`client_header_timeout` is 60 s. `asr serve` runs this protocol; the answers are in the gateway's error shape.
"""

from __future__ import annotations

import asyncio
import json
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

# Room for a long URL, a JWT or two and browser cookies; nginx's default `large_client_header_buffers` is 32 KiB.
MAX_REQUEST_HEAD_BYTES = 32 * 1024


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 431 `request_header_too_large` once a request's head passes `MAX_REQUEST_HEAD_BYTES`, and 408
    `request_header_timeout` when a head is not complete `head_timeout_s` after the connection opened or its first
    byte came (a kept-alive connection's next request); a request whose head is in waits for its answer untimed.

    httptools hands a header over only once its whole value has arrived, so the bytes are counted as they come in:
    every chunk fed while a head is incomplete. A chunk that also ends the previous request's body counts whole,
    so the cap can be reached up to one chunk early by a client pipelining requests.
    """

    head_bytes = 0
    reading_head = True
    head_timeout_s = 15.0
    _head_timer: asyncio.TimerHandle | None = None

    @classmethod
    def with_head_timeout(cls, head_timeout_s: float) -> type[HeadLimitedHttpToolsProtocol]:
        """Return this protocol with its head deadline set (uvicorn builds one protocol per connection from a class)."""
        return type(cls.__name__, (cls,), {"head_timeout_s": head_timeout_s})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        self.head_bytes = 0
        self.reading_head = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.reading_head = False
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.reading_head or self.transport.is_closing():
            return
        if self._head_timer is None:  # the first bytes of a kept-alive connection's next request
            self._start_head_timer()
        self.head_bytes += len(data)
        if self.head_bytes > MAX_REQUEST_HEAD_BYTES:
            self._refuse_head()

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self.reading_head:
            return
        logger.warning("request head not complete within %g s: closed (408)", self.head_timeout_s)
        self._answer_and_close(
            "408 Request Timeout",
            "request_header_timeout",
            f"the request line and headers did not arrive within this server's {self.head_timeout_s:g} s",
        )

    def _refuse_head(self) -> None:
        logger.warning("request head over %d bytes refused (431)", MAX_REQUEST_HEAD_BYTES)
        self._answer_and_close(
            "431 Request Header Fields Too Large",
            "request_header_too_large",
            f"the request line and headers are larger than this server's {MAX_REQUEST_HEAD_BYTES} bytes",
        )

    def _answer_and_close(self, status: str, code: str, message: str) -> None:
        self._stop_head_timer()
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self.transport.write(
            f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n".encode()
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        self.transport.close()
