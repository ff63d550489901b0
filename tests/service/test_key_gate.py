"""An upload refused from its headers alone (no key: 401; a declared length over the cap: 413) is answered before
any of the body is sent, and the server closes the connection instead of reading the body to its end. A real
uvicorn server on loopback, a raw socket client."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from bench.live_server import serve
from service import create_app

KEY = "sk-gate-5e1a"
BODY_BYTES = 1_500_000  # under the tests' 2 MB upload cap: only the key can refuse it


@pytest.fixture(scope="module")
def keyed_url(make_settings):
    with serve(create_app(make_settings(api_keys=[KEY]))) as url:
        yield url


def _headers_only(url: str, path: str, headers: dict[str, str]) -> tuple[str, bytes]:
    """Send a POST's request line and headers, none of the body it announces; return the status line and the rest.

    The read has a 5 s timeout: a server that waits for the body before answering fails the test there.
    """
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: test\r\n{head}\r\n".encode())
        received = b""
        while chunk := connection.recv(65536):  # until the server closes the connection
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    return status_line.decode(), rest


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/transcribe", "multipart/form-data; boundary=x"),
        ("/v1/audio/transcriptions", "multipart/form-data; boundary=x"),
        ("/v1/transcribe", "audio/wav"),
    ],
)
@pytest.mark.parametrize("length", [{"Content-Length": str(BODY_BYTES)}, {"Transfer-Encoding": "chunked"}])
def test_a_keyless_upload_gets_401_before_its_body_and_the_connection_closes(keyed_url, path, content_type, length):
    status_line, rest = _headers_only(keyed_url, path, {"Content-Type": content_type, **length})
    assert status_line == "HTTP/1.1 401 Unauthorized"
    assert b"connection: close" in rest.lower()
    assert b'"invalid_api_key"' in rest and b"Authorization: Bearer KEY" in rest


def test_a_wrong_key_is_refused_the_same_way(keyed_url):
    headers = {"Content-Type": "audio/wav", "Content-Length": str(BODY_BYTES), "Authorization": "Bearer nope"}
    status_line, rest = _headers_only(keyed_url, "/v1/transcribe", headers)
    assert status_line == "HTTP/1.1 401 Unauthorized" and b"the API key is not valid" in rest


def test_with_the_key_the_body_is_awaited(keyed_url):
    address = urlsplit(keyed_url)
    with socket.create_connection((address.hostname, address.port), timeout=2) as connection:
        connection.sendall(
            f"POST /v1/transcribe HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: audio/wav\r\nContent-Length: {BODY_BYTES}\r\n\r\n".encode()
        )
        with pytest.raises(TimeoutError):  # the server is reading the upload, as it should
            connection.recv(65536)


def test_a_declared_length_over_the_cap_gets_413_and_the_connection_closes(keyed_url):
    headers = {"Content-Type": "audio/wav", "Content-Length": str(1 << 30), "Authorization": f"Bearer {KEY}"}
    status_line, rest = _headers_only(keyed_url, "/v1/transcribe", headers)
    assert status_line == "HTTP/1.1 413 Request Entity Too Large" and b"connection: close" in rest.lower()
