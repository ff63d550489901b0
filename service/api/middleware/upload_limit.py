"""ASGI middleware that caps the request body while it streams in (413), so no upload is read whole.

A declared `Content-Length` over the cap is refused before a byte of the body is read. Otherwise the
bytes are counted as the server hands them over; at the cap the body stream is cut off, and whatever
the app would have answered is replaced by the 413. The multipart parser spools file parts to a
temporary file as they arrive, so at most `max_bytes` ever reach memory or disk.

The same cut-off ends an upload still arriving when a shutdown's deadline comes (`Draining`): it gets a 503
`server_shutting_down` in time, instead of a connection dropped when the server exits.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import ServiceError
from service.api.errors import service_error_response
from service.draining import Draining
from service.errors import ServerShuttingDownError, UploadTooLargeError


class _BodyCutOff(Exception):
    """Raised into the app's body reader when the cap is passed."""


class UploadLimitMiddleware:
    """Answers 413 `upload_too_large` for a request body longer than `max_bytes`, 503 for one cut off by a shutdown."""

    def __init__(self, app: ASGIApp, max_bytes: int, draining: Draining | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.draining = draining

    def _too_large(self) -> UploadTooLargeError:
        return UploadTooLargeError(f"the upload is larger than this server's limit of {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = service_error_response(self._too_large(), 0, scope["path"])
            response.headers["Connection"] = "close"  # else the server reads the whole body to reach the next request
            await response(scope, receive, send)
            return

        received_bytes = 0
        cut_off: ServiceError | None = None
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received_bytes, cut_off
            try:
                message = await (receive() if self.draining is None else self.draining.unless_cut_off(receive()))
            except ServerShuttingDownError as error:
                cut_off = error
                raise _BodyCutOff from None
            if message["type"] == "http.request":
                received_bytes += len(message.get("body", b""))
                if received_bytes > self.max_bytes:
                    cut_off = self._too_large()
                    raise _BodyCutOff
            return message

        async def replacing_send(message: Message) -> None:
            nonlocal response_started
            if cut_off is not None:
                return  # the app's answer to a cut-off body (a parse error) is replaced by the error below
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, replacing_send)
        except Exception:
            # The cut-off surfaces however the app's body reader wraps it (FastAPI: a parse error).
            if cut_off is None:
                raise
        if cut_off is not None and not response_started:
            response = service_error_response(cut_off, 0, scope["path"])
            response.headers["Connection"] = "close"  # the rest of the body is not read
            await response(scope, receive, send)
