"""The upload cap holds while the body streams: the app stops reading at the cap and answers 413."""

from __future__ import annotations

import asyncio
import json

from service.api.middleware.upload_limit import UploadLimitMiddleware

CHUNK_BYTES = 64 * 1024
MAX_BYTES = 1024 * 1024


async def _app_reading_everything(scope, receive, send):
    """Stands for any route that reads the whole body (as the multipart parser does)."""
    while (await receive()).get("more_body", False):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"read it all"})


def _call(headers: list[tuple[bytes, bytes]], body_chunks: int) -> tuple[int, dict, int]:
    """Returns (status, JSON body, bytes pulled from the client) for a streamed upload."""
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += CHUNK_BYTES
        return {"type": "http.request", "body": bytes(CHUNK_BYTES), "more_body": pulled < body_chunks * CHUNK_BYTES}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/transcribe", "headers": headers}
    asyncio.run(UploadLimitMiddleware(_app_reading_everything, MAX_BYTES)(scope, receive, send))
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), pulled


def test_a_1_gb_chunked_upload_is_cut_off_at_the_cap():
    status, body, pulled = _call(headers=[], body_chunks=16 * 1024)  # 1 GiB, no Content-Length
    assert status == 413
    assert body["error"]["code"] == "upload_too_large"
    assert pulled <= MAX_BYTES + CHUNK_BYTES


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    status, body, pulled = _call(headers=[(b"content-length", str(1 << 30).encode())], body_chunks=16 * 1024)
    assert (status, body["error"]["code"], pulled) == (413, "upload_too_large", 0)


def test_a_body_under_the_cap_passes_through():
    sent_status = []

    async def run():
        chunks = iter([b"x" * 10, b""])

        async def receive():
            body = next(chunks)
            return {"type": "http.request", "body": body, "more_body": bool(body)}

        async def send(message):
            if message["type"] == "http.response.start":
                sent_status.append(message["status"])

        scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
        await UploadLimitMiddleware(_app_reading_everything, MAX_BYTES)(scope, receive, send)

    asyncio.run(run())
    assert sent_status == [200]
