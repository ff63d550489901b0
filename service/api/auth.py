"""Who may call: API keys sent as `Authorization: Bearer KEY` (the OpenAI SDK's way), checked in constant time.

The keys come from `ASR_API_KEYS` and/or `ASR_API_KEYS_FILE` (a mounted Kubernetes Secret), read once when the
app is built. With no key configured every route is open, and `asr serve` keeps to loopback unless told
otherwise. Keys are never logged: they live as bytes in `ApiKeys` and as `SecretStr` in the settings.

Every HTTP route that needs a key depends on `require_api_key`; other front doors (the WebSocket route) call
`check_api_key(connection)`, which reads the same keys from the app.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path

from starlette.requests import HTTPConnection

from service.core.config import Settings
from service.core.errors import UnauthorizedError

_SCHEME = "bearer"


class ApiKeys:
    """The set of accepted keys; `check` answers whether an `Authorization` header carries one of them."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = tuple(key.encode() for key in keys if key)

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys:
        """Return the keys of `ASR_API_KEYS` plus those in `ASR_API_KEYS_FILE` (one a line, `#` comments)."""
        keys = [secret.get_secret_value() for secret in settings.api_keys]
        if settings.api_keys_file is not None:
            keys += read_keys_file(settings.api_keys_file)
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


def check_api_key(connection: HTTPConnection) -> bool:
    """Return whether an HTTP request or WebSocket may proceed, by its `Authorization` header and the app's keys."""
    api_keys: ApiKeys = connection.app.state.api_keys
    return api_keys.check(connection.headers.get("authorization"))


async def require_api_key(connection: HTTPConnection) -> None:
    """FastAPI dependency: raise `UnauthorizedError` (401) unless the request carries an accepted key."""
    if not check_api_key(connection):
        raise UnauthorizedError(
            "a valid API key is required: send it as `Authorization: Bearer KEY`"
            if connection.headers.get("authorization") is None
            else "the API key is not valid"
        )
