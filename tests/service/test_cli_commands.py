"""`asr transcribe` (in-process, same decoding and model call as the gateway) and `asr serve`'s startup check."""

from __future__ import annotations

import argparse
import json

from cli import serve, transcribe
from tests.service.gateway_fixtures import encode, speechlike, upload


def run_cli(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="asr")
    parser.add_argument("-v", "--verbose", action="store_true")
    module.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_transcribe_prints_what_the_gateway_returns(client, model_base_path, tmp_path, capsys):
    clip = encode(speechlike(1.0, 44_100, channels=2, seed=7), 44_100, "FLAC")
    (tmp_path / "a.flac").write_bytes(clip)
    (tmp_path / "bad.wav").write_bytes(b"not audio" * 10)
    expected = client.post("/v1/transcribe", files=upload(clip, "a.flac")).json()["text"]

    assert run_cli(transcribe, ["transcribe", str(tmp_path / "a.flac"), "--model", str(model_base_path)]) == 0
    assert capsys.readouterr().out == expected + "\n"

    status = run_cli(
        transcribe,
        ["transcribe", str(tmp_path / "a.flac"), str(tmp_path / "bad.wav"), "--model", str(model_base_path), "--json"],
    )
    captured = capsys.readouterr()
    assert status == 1  # one file failed
    assert json.loads(captured.out) == {"file": str(tmp_path / "a.flac"), "text": expected, "duration_s": 1.0,
                                        "decoder": "greedy"}
    assert "bad.wav: not an audio file" in captured.err


def test_serve_without_a_model_exits_with_a_clear_message(tmp_path, capsys):
    assert run_cli(serve, ["serve", "--model", str(tmp_path / "missing")]) == 2
    assert "no SavedModel at" in capsys.readouterr().err


def test_serve_with_a_missing_lm_folder_exits_with_a_clear_message(model_base_path, tmp_path, capsys):
    assert run_cli(serve, ["serve", "--model", str(model_base_path), "--lm", str(tmp_path / "no_lm")]) == 2
    assert "no_lm is not a language-model folder: decoder.json is missing" in capsys.readouterr().err


def test_serve_warns_when_listening_beyond_loopback_without_keys(model_base_path, monkeypatch, capsys):
    import uvicorn

    binds = []  # the real server is not started: only where it would listen matters here
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kwargs: binds.append(host))
    monkeypatch.delenv("ASR_API_KEYS", raising=False)
    argv = ["serve", "--model", str(model_base_path), "--no-lm"]
    assert run_cli(serve, argv) == 0
    assert "warning" not in capsys.readouterr().err  # loopback by default: no warning
    assert run_cli(serve, [*argv, "--host", "0.0.0.0"]) == 0
    assert "listening on 0.0.0.0 without API keys" in capsys.readouterr().err
    monkeypatch.setenv("ASR_API_KEYS", "sk-a,sk-b")
    assert run_cli(serve, [*argv, "--host", "0.0.0.0"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "sk-a" not in err
    assert binds == ["127.0.0.1", "0.0.0.0", "0.0.0.0"]
