"""`asr serve`'s JSON log lines: one object per record, with the fields log collectors index."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from service.logs import configure_logging


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_each_record_is_one_json_object_with_extras_and_the_traceback(capsys) -> None:
    configure_logging(json_lines=True)
    logger = logging.getLogger("service.test")
    logger.info("batch of %d", 3, extra={"request_id": "r-1", "duration_s": 0.25, "color_message": "\x1b[36m"})
    try:
        raise ValueError("bad audio")
    except ValueError:
        logger.exception("request failed")

    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert {key: first[key] for key in ("level", "logger", "message", "request_id", "duration_s")} == {
        "level": "INFO", "logger": "service.test", "message": "batch of 3", "request_id": "r-1", "duration_s": 0.25,
    }  # fmt: skip
    assert first["time"] and "exception" not in first and "color_message" not in first
    assert second["level"] == "ERROR" and second["message"] == "request failed"
    assert second["exception"].endswith("ValueError: bad audio")


@pytest.mark.usefixtures("restore_root_logger")
def test_plain_text_when_json_is_off(capsys) -> None:
    configure_logging(json_lines=False)
    logging.getLogger("service.test").warning("queue full")
    assert capsys.readouterr().err.rstrip().endswith("WARNING service.test: queue full")
