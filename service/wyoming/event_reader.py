"""One Wyoming event read off a connection, each length checked before anything is read.

The framing is a JSON header line, then `data_length` bytes of JSON merged into its `data`, then `payload_length`
bytes of payload. The `wyoming` package's reader trusts those lengths (a header claiming 2 GB buffers whatever
is sent) and answers bad JSON by hanging up; this one refuses a length over its cap from the header alone, and
raises a typed error the handler turns into an `error` event.
"""

from __future__ import annotations

import asyncio
import json

from wyoming.event import Event

from service.errors import InvalidStreamMessageError

# A header line or data block holds a few hundred bytes of JSON; 64 KiB is asyncio's default StreamReader limit,
# which the listener sets explicitly so `readuntil` refuses a longer line without buffering it.
MAX_JSON_BYTES = 64 * 1024


class InvalidEventError(InvalidStreamMessageError):
    """The bytes are not a Wyoming event: bad JSON, no type, a length that is not a count."""

    code = "invalid_event"


class EventTooLargeError(InvalidStreamMessageError):
    """A header line, data block or payload is over its cap; refused before it is read."""

    code = "event_too_large"


async def read_event(reader: asyncio.StreamReader, max_payload_bytes: int) -> Event | None:
    """Return the next event, or None once the client has closed the connection (even mid-event)."""
    try:
        header = _json_object(await reader.readuntil(b"\n"), "the header line")
        data = header.get("data") or {}
        if not isinstance(header.get("type"), str) or not isinstance(data, dict):
            raise InvalidEventError('an event header needs a "type" string and, if any, a "data" object')
        data_length = _length(header, "data_length", MAX_JSON_BYTES, "the largest data block")
        payload_length = _length(header, "payload_length", max_payload_bytes, "ASR_WYOMING_MAX_PAYLOAD_BYTES")
        if data_length:
            data = {**data, **_json_object(await reader.readexactly(data_length), "the data block")}
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise EventTooLargeError(f"an event header line is longer than {MAX_JSON_BYTES} bytes") from None
    return Event(type=header["type"], data=data, payload=payload)


def _json_object(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEventError(f"{what} is not JSON: {error}") from None
    except RecursionError:  # `[[[[...` fits the line cap and is still no event
        raise InvalidEventError(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise InvalidEventError(f"{what} is not a JSON object")
    return value


def _length(header: dict, key: str, cap: int, cap_name: str) -> int:
    """Return the header's `key` (0 when absent); a length that is not a count, or is over `cap`, is refused."""
    length = header.get(key)
    if length is None:
        return 0
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise InvalidEventError(f"{key} must be a byte count, not {length!r}")
    if length > cap:
        raise EventTooLargeError(f"{key} {length} is over the {cap}-byte cap ({cap_name})")
    return length
