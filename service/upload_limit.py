"""ASGI middleware that caps the request body while it streams in (413), so no upload is read whole.

A declared `Content-Length` over the cap is refused before a byte of the body is read. Otherwise the
bytes are counted as the server hands them over; at the cap the body stream is cut off, and whatever
the app would have answered is replaced by the 413. The multipart parser spools file parts to a
temporary file as they arrive, so at most `max_bytes` ever reach memory or disk.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import service_error_response
from service.core.errors import UploadTooLargeError


class _BodyCutOff(Exception):
    """Raised into the app's body reader when the cap is passed."""


class UploadLimitMiddleware:
    """Answers 413 `upload_too_large` for a request body longer than `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> UploadTooLargeError:
        return UploadTooLargeError(f"the upload is larger than this server's limit of {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await service_error_response(self._too_large(), 0, scope["path"])(scope, receive, send)
            return

        received_bytes = 0
        cut_off = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received_bytes, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received_bytes += len(message.get("body", b""))
                if received_bytes > self.max_bytes:
                    cut_off = True
                    raise _BodyCutOff
            return message

        async def replacing_send(message: Message) -> None:
            nonlocal response_started
            if cut_off:
                return  # the app's answer to a cut-off body (a parse error) is replaced by the 413 below
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, replacing_send)
        except Exception:
            # The cut-off surfaces however the app's body reader wraps it (FastAPI: a parse error).
            if not cut_off:
                raise
        if cut_off and not response_started:
            await service_error_response(self._too_large(), 0, scope["path"])(scope, receive, send)
