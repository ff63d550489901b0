"""JSON log lines for the service, one object per record, for log collectors."""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# The fields of every line, renamed from LogRecord's; anything passed with `extra=` is added after them.
JSON_FIELDS = ["asctime", "levelname", "name", "message"]
JSON_FIELD_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "exception"}
# uvicorn passes `color_message` (the message with ANSI colour codes) as an extra: noise in a JSON line.
SKIPPED_ATTRIBUTES = [*RESERVED_ATTRS, "color_message"]


def json_formatter() -> logging.Formatter:
    """Returns the formatter of `{"time", "level", "logger", "message", ...extra, "exception"?}` lines."""
    return JsonFormatter(JSON_FIELDS, rename_fields=JSON_FIELD_NAMES, reserved_attrs=SKIPPED_ATTRIBUTES)


# A query parameter's value in a logged path: `?api_key=sk-...` must not reach the logs (the gateway refuses keys
# there, but uvicorn logs the request line first).
_QUERY_VALUE = re.compile(r"(?<=[?&])([^=&#\s]*)=[^&#\s]*")


class RedactQueryValues(logging.Filter):
    """Replaces the values of query parameters in uvicorn's access and WebSocket lines with `***`, names kept.

    A client that puts its key in the URL (`?api_key=...`) is refused, but the request line would carry the key into
    every log collector. The values go, the names stay, so the line still says what was asked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        return True


def _redact(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return _QUERY_VALUE.sub(r"\1=***", arg)
    return arg


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    """Send the root logger (uvicorn's loggers included) to stderr, as JSON lines or as plain text."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        json_formatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.filters[:] = [RedactQueryValues()]  # "uvicorn.error" logs WebSocket request lines
