"""How audio reaches `/v1/transcribe`: a multipart part or a raw body, one file only, every bad one named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.service.gateway_fixtures import encode, speechlike, upload


@pytest.fixture(scope="module")
def wav() -> bytes:
    return encode(speechlike(1.0, 16_000, seed=21), 16_000)


@pytest.mark.parametrize("content_type", ["audio/wav", "audio/x-wav; codecs=1", "application/octet-stream"])
def test_a_raw_audio_body_is_transcribed_like_a_multipart_file(client, wav, content_type):
    as_part = client.post("/v1/transcribe", files=upload(wav)).json()
    raw = client.post("/v1/transcribe", content=wav, headers={"content-type": content_type})
    assert raw.status_code == 200, raw.text
    assert raw.json()["text"] == as_part["text"]
    assert raw.json()["duration_s"] == pytest.approx(1.0)


def test_a_raw_body_over_the_cap_is_413(client):
    limit = client.app.state.settings.http.max_upload_bytes
    response = client.post("/v1/transcribe", content=bytes(limit + 1), headers={"content-type": "audio/wav"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload_too_large"


def test_a_bad_raw_body_is_the_same_typed_error_as_a_bad_part(client):
    response = client.post("/v1/transcribe", content=b"not audio at all" * 8, headers={"content-type": "audio/mpeg"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    empty = client.post("/v1/transcribe", content=b"", headers={"content-type": "audio/wav"})
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "empty_upload")


def test_a_body_that_is_neither_form_nor_audio_says_how_to_send_audio(client, wav):
    response = client.post("/v1/transcribe", content=b'{"audio": "x"}', headers={"content-type": "application/json"})
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "multipart `file` part" in message and "audio/*" in message and "application/json" in message


def test_two_file_parts_are_refused_not_silently_reduced_to_one(client, wav):
    other = encode(speechlike(0.7, 16_000, seed=22), 16_000)
    response = client.post("/v1/transcribe", files=[("file", ("a.wav", wav)), ("file", ("b.wav", other))])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert "2 `file` parts" in response.json()["error"]["message"]
    assert "/v1/transcribe/batch" in response.json()["error"]["message"]


def test_a_bad_file_in_a_batch_is_named_in_the_error(client, wav):
    files = [
        ("file", ("good.wav", wav)),
        ("file", ("notes.txt", b"shopping list, not audio\n" * 10)),
        ("file", ("empty.wav", b"")),
    ]
    response = client.post("/v1/transcribe/batch", files=files)
    assert response.status_code == 415  # the first bad file's error, in upload order
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert error["message"].startswith("file 2 (notes.txt): not an audio file")


@pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox with libsox-fmt-mp3; scripts/test.sh installs it")
@pytest.mark.parametrize("rate_hz", [44_100, 22_050])
def test_mp3s_sox_writes_at_44_1_and_22_05_khz_are_transcribed(client, rate_hz, tmp_path: Path):
    wav_path, mp3_path = tmp_path / "in.wav", tmp_path / "out.mp3"
    wav_path.write_bytes(encode(speechlike(2.0, rate_hz, seed=23), rate_hz))
    subprocess.run(["sox", str(wav_path), str(mp3_path)], check=True, capture_output=True)
    response = client.post("/v1/transcribe", files=upload(mp3_path.read_bytes(), "speech.mp3"))
    assert response.status_code == 200, response.text  # was 422 "truncated: the header promises ..."
    assert response.json()["source_sample_rate_hz"] == rate_hz
    assert response.json()["duration_s"] == pytest.approx(2.0, abs=0.15)


def test_a_truncated_mp3_is_a_clear_422(client):
    data = encode(speechlike(2.0, 44_100, seed=24), 44_100, "MP3", "MPEG_LAYER_III")  # LAME, with a Xing tag
    response = client.post("/v1/transcribe", files=upload(data[: len(data) // 2], "cut.mp3"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "audio_decode_error"
    assert "truncated" in response.json()["error"]["message"]
