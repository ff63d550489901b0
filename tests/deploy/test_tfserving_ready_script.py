"""docker/tfserving-ready.sh, the readiness check compose and Kubernetes run inside the TF Serving container,
against a loopback HTTP server that answers GET /v1/models/NAME the way TF Serving's REST API does (a stand-in
for TF Serving, whose binary cannot be installed here): ready only when a version is AVAILABLE."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .layout import DOCKER_DIR, MODEL_NAME

SCRIPT = DOCKER_DIR / "tfserving-ready.sh"


def _status_body(*states: str) -> str:
    """Gives a model status body laid out as TF Serving prints it (one-space indent, `"state": "..."`)."""
    versions = [
        {"version": str(i + 1), "state": state, "status": {"error_code": "OK", "error_message": ""}}
        for i, state in enumerate(states)
    ]
    return json.dumps({"model_version_status": versions}, indent=1)


class _FakeModelStatus(BaseHTTPRequestHandler):
    """Answers every GET with the server's current (status code, body); records the paths asked for."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self.server.paths.append(self.path)
        code, body = self.server.reply
        payload = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def rest_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeModelStatus)
    server.paths, server.reply = [], (200, _status_body("AVAILABLE"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _check(port: int, model: str = MODEL_NAME) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), model, "127.0.0.1", str(port)], capture_output=True, text=True, timeout=20
    )


def test_ready_when_a_version_is_available(rest_server) -> None:
    result = _check(rest_server.server_address[1])
    assert result.returncode == 0, result.stderr
    assert rest_server.paths == [f"/v1/models/{MODEL_NAME}"]


@pytest.mark.parametrize("states", [("START",), ("LOADING",), ("UNLOADING",), ("END",)])
def test_not_ready_while_status_is_200_but_not_available(rest_server, states) -> None:
    rest_server.reply = (200, _status_body(*states))
    result = _check(rest_server.server_address[1])
    assert result.returncode == 1
    assert "no AVAILABLE version" in result.stderr


def test_ready_during_a_swap_while_the_old_version_still_serves(rest_server) -> None:
    rest_server.reply = (200, _status_body("AVAILABLE", "LOADING"))
    assert _check(rest_server.server_address[1]).returncode == 0


def test_not_ready_when_the_model_is_unknown(rest_server) -> None:
    body = json.dumps({"error": "Servable not found for request: Latest(wav2vec2)"})
    rest_server.reply = (404, body)
    result = _check(rest_server.server_address[1])
    assert result.returncode == 1
    assert "404" in result.stderr


def test_not_ready_when_an_error_body_mentions_available(rest_server) -> None:
    """The state is read from a 200 answer only, not from any text that happens to contain the word."""
    rest_server.reply = (500, _status_body("AVAILABLE"))
    assert _check(rest_server.server_address[1]).returncode == 1


def test_not_ready_when_nothing_listens() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeModelStatus)
    port = server.server_address[1]
    server.server_close()  # the port is now free and closed
    result = _check(port)
    assert result.returncode == 1
    assert "nothing listening" in result.stderr


def test_asks_for_the_model_it_is_given(rest_server) -> None:
    _check(rest_server.server_address[1], model="other")
    assert rest_server.paths == ["/v1/models/other"]
