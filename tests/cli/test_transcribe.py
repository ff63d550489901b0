"""`asr transcribe`: in-process, the same decoding and model call as the gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cli.main import main
from service import Settings, create_app
from tests.service.gateway_fixtures import encode, speechlike, upload


@pytest.fixture(scope="module")
def client(model_base_path: Path) -> Iterator[TestClient]:
    """The gateway over the same tiny export, to compare the command's text with."""
    with TestClient(create_app(Settings(model_path=model_base_path))) as test_client:
        yield test_client


def test_transcribe_prints_what_the_gateway_returns(client, model_base_path, tmp_path, capsys):
    clip = encode(speechlike(1.0, 44_100, channels=2, seed=7), 44_100, "FLAC")
    (tmp_path / "a.flac").write_bytes(clip)
    (tmp_path / "bad.wav").write_bytes(b"not audio" * 10)
    served = client.post("/v1/transcribe", files=upload(clip, "a.flac")).json()
    expected = served["text"]

    assert main(["transcribe", str(tmp_path / "a.flac"), "--model", str(model_base_path)]) == 0
    assert capsys.readouterr().out == expected + "\n"

    status = main(
        ["transcribe", str(tmp_path / "a.flac"), str(tmp_path / "bad.wav"), "--model", str(model_base_path), "--json"],
    )
    captured = capsys.readouterr()
    assert status != 0  # one file failed; the other was still transcribed
    fields = ("text", "duration_s", "decoder", "words", "segments")
    assert json.loads(captured.out) == {"file": str(tmp_path / "a.flac"), **{key: served[key] for key in fields}}
    assert "bad.wav: not an audio file" in captured.err


def test_a_missing_model_is_one_line_on_stderr_and_exit_2(tmp_path, capsys):
    (tmp_path / "a.wav").write_bytes(encode(speechlike(0.5, 16_000), 16_000))
    assert main(["transcribe", str(tmp_path / "a.wav"), "--model", str(tmp_path / "missing")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("asr transcribe: ") and "missing" in captured.err


def test_a_missing_audio_file_is_exit_2_before_the_model_loads(tmp_path, capsys, monkeypatch):
    from service.backends.embedded import EmbeddedBackend

    (tmp_path / "a.wav").write_bytes(encode(speechlike(0.5, 16_000), 16_000))
    monkeypatch.setattr(EmbeddedBackend, "start", lambda self: pytest.fail("the model was loaded"))
    missing = tmp_path / "missing.wav"
    assert main(["transcribe", str(tmp_path / "a.wav"), str(missing)]) == 2  # the README's status for bad input
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"asr transcribe: no such audio file: {missing}\n"
