"""JSON log lines for the service, one object per record, for log collectors."""

from __future__ import annotations

import logging

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
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
