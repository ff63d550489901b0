"""ASGI middleware that answers 401 from the request line and headers alone, before any of the body is read.

FastAPI resolves a route's form fields before its dependencies, so `require_api_key` alone would run only after a
multipart upload had been received and spooled to disk. The gate is given the routes `create_app` protects with
that dependency; when one of them matches and the key is missing or wrong, it answers at once with
`Connection: close`, so the server stops reading the body instead of draining it for the next request.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.auth import check_api_key, unauthorized
from service.api.errors import service_error_response


class KeyGateMiddleware:
    """Refuses requests to `protected_routes` that carry no accepted key, without reading their body."""

    def __init__(self, app: ASGIApp, protected_routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.protected_routes = tuple(protected_routes)

    def _is_protected(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] == Match.FULL for route in self.protected_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_protected(scope):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        if check_api_key(connection):
            await self.app(scope, receive, send)
            return
        response = service_error_response(unauthorized(connection), 0, scope["path"])
        response.headers["Connection"] = "close"  # the unread body is not drained: the connection ends here
        await response(scope, receive, send)
