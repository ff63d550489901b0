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


@pytest.mark.usefixtures("restore_root_logger")
def test_a_key_in_the_query_string_is_refused_and_never_logged(make_settings, capfd, monkeypatch) -> None:
    import asyncio

    import httpx
    import websockets

    from bench.live_server import serve
    from service import create_app

    secret = "sk-in-the-url-7f3a"
    configure_logging(json_lines=True)
    # The client's own request log (httpx, this process) is not the server's: only the server's lines are checked.
    monkeypatch.setattr(logging.getLogger("httpx"), "disabled", True)
    with serve(create_app(make_settings(api_keys=["sk-real"]))) as url:
        response = httpx.get(f"{url}/v1/models?api_key={secret}&x=1", headers={"Authorization": "Bearer sk-real"})

        async def stream() -> int | None:
            ws_url = url.replace("http", "ws") + f"/v1/stream?api_key={secret}"
            async with websockets.connect(ws_url) as ws:
                await ws.send(json.dumps({"type": "config"}))
                await ws.wait_closed()
                return ws.close_code

        close_code = asyncio.run(stream())
    assert response.status_code == 422 and response.json()["error"]["param"] == "api_key"
    assert close_code == 4401  # a key in the URL is not a key
    logged = capfd.readouterr().err
    assert secret not in logged
    messages = [json.loads(line)["message"] for line in logged.splitlines() if line.startswith("{")]
    assert any(message.endswith('"GET /v1/models?api_key=***&x=*** HTTP/1.1" 422') for message in messages)
    assert any(message.endswith('"WebSocket /v1/stream?api_key=***" [accepted]') for message in messages)
