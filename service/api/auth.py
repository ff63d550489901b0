"""Who may call: API keys sent as `Authorization: Bearer KEY` (the OpenAI SDK's way), checked in constant time.

The keys come from `ASR_API_KEYS` and/or `ASR_API_KEYS_FILE` (a mounted Kubernetes Secret), read once when the
app is built. With no key configured every route is open, and `asr serve` keeps to loopback unless told
otherwise. Keys are never logged: they live as bytes in `ApiKeys` and as `SecretStr` in the settings.

Every HTTP route that needs a key depends on `require_api_key`, which marks it (and puts the "Authorize" box in
/docs); `KeyGateMiddleware` enforces the mark from the headers alone, before a byte of the body is read, so a keyless
upload is refused at once instead of after it has been received and spooled. The WebSocket route calls
`check_api_key(connection, config_key)` before it takes a stream slot. All of them read the same keys from the app.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection, Request

from service.config import Settings
from service.errors import UnauthorizedError

_SCHEME = "bearer"
# Declares the scheme in the OpenAPI document, so /docs has an "Authorize" box; the check itself is ours.
_bearer_scheme = HTTPBearer(auto_error=False, description="An API key from ASR_API_KEYS / ASR_API_KEYS_FILE.")


class ApiKeys:
    """The set of accepted keys; `check` answers whether an `Authorization` header carries one of them."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = tuple(key.encode() for key in keys if key)

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys:
        """Return the keys of `ASR_API_KEYS` plus those in `ASR_API_KEYS_FILE` (one a line, `#` comments)."""
        keys = [secret.get_secret_value() for secret in settings.http.api_keys]
        if settings.http.api_keys_file is not None:
            keys += read_keys_file(settings.http.api_keys_file)
        return cls(keys)

    @property
    def required(self) -> bool:
        """Whether callers must present a key (false when none is configured)."""
        return bool(self._keys)

    def check(self, authorization: str | None) -> bool:
        """Return whether `authorization` (the header's value) is `Bearer KEY` with an accepted KEY."""
        if not self._keys:
            return True
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != _SCHEME:
            return False
        presented_bytes = presented.strip().encode()
        # Compare against every key, never stopping early: the time taken says nothing about which key matched.
        matches = [hmac.compare_digest(presented_bytes, key) for key in self._keys]
        return any(matches)


def read_keys_file(path: Path) -> list[str]:
    """Return the keys in `path`: one per line, surrounding blanks stripped, blank and `#` lines skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def check_api_key(connection: HTTPConnection, config_key: str | None = None) -> bool:
    """Return whether an HTTP request or WebSocket may proceed, by its key and the app's keys.

    The key is `config_key` when given (a WebSocket config's `api_key`: browsers cannot set headers on a
    WebSocket), else the `Authorization: Bearer KEY` header.
    """
    api_keys: ApiKeys = connection.app.state.api_keys
    authorization = f"Bearer {config_key}" if config_key else connection.headers.get("authorization")
    return api_keys.check(authorization)


def unauthorized(connection: HTTPConnection) -> UnauthorizedError:
    """Return the 401 error for a request without an accepted key, saying whether one was sent at all."""
    if connection.headers.get("authorization") is None:
        return UnauthorizedError("a valid API key is required: send it as `Authorization: Bearer KEY`")
    return UnauthorizedError("the API key is not valid")


async def require_api_key(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None
) -> None:
    """FastAPI dependency of HTTP routes: raise `UnauthorizedError` (401) unless the request has an accepted key.

    It marks the route as needing a key: `KeyGateMiddleware` reads the mark and refuses a keyless request before
    its body is read, so by the time this runs the check passes.
    """
    if not check_api_key(request):
        raise unauthorized(request)
