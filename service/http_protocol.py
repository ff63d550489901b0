"""uvicorn's httptools protocol with a cap on the request head (request line + headers): past it, 431 and close.

llhttp sets no limit of its own, so a client could send megabytes of headers that are parsed on the event loop
while every other request, the health checks included, waits. h11 caps the head at 16 KiB; nginx's default is
4 x 8 KiB buffers. `asr serve` runs this protocol; the answer is in the gateway's error shape.
"""

from __future__ import annotations

import json
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

# Room for a long URL, a JWT or two and browser cookies; nginx's default `large_client_header_buffers` is 32 KiB.
MAX_REQUEST_HEAD_BYTES = 32 * 1024


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 431 `request_header_too_large` once a request's head passes `MAX_REQUEST_HEAD_BYTES`.

    httptools hands a header over only once its whole value has arrived, so the bytes are counted as they come in:
    every chunk fed while a head is incomplete. A chunk that also ends the previous request's body counts whole,
    so the cap can be reached up to one chunk early by a client pipelining requests.
    """

    head_bytes = 0
    reading_head = True

    def on_message_begin(self) -> None:
        self.head_bytes = 0
        self.reading_head = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self.reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.reading_head = False
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.reading_head or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > MAX_REQUEST_HEAD_BYTES:
            self._refuse_head()

    def _refuse_head(self) -> None:
        logger.warning("request head over %d bytes refused (431)", MAX_REQUEST_HEAD_BYTES)
        error = {
            "code": "request_header_too_large",
            "message": f"the request line and headers are larger than this server's {MAX_REQUEST_HEAD_BYTES} bytes",
        }
        body = json.dumps({"error": error}).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        self.transport.close()
