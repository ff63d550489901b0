"""`asr transcribe`: in-process, the same decoding and model call as the gateway."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import struct
import subprocess
import termios
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cli.main import main
from service import Settings, create_app
from tests.service.gateway_fixtures import encode, speechlike, upload

FESTIVAL = Path(__file__).resolve().parents[1] / "fixtures" / "festival"


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


@pytest.mark.skipif(shutil.which("lame") is None, reason="needs the lame command; scripts/test.sh installs it")
def test_an_mp3_made_by_lame_gives_the_wavs_words_at_the_wavs_times(tmp_path, capsys):
    # lame's default at 16 kHz (24 kbit/s CBR) writes no tag stating its delay: words came 60-80 ms late.
    wav = tmp_path / "talk.wav"
    shutil.copy(FESTIVAL / "eval_festival-festival-007902.wav", wav)
    subprocess.run(["lame", "--quiet", str(wav), str(tmp_path / "talk.mp3")], check=True)
    assert main(["transcribe", str(wav), str(tmp_path / "talk.mp3"), "--json", "-q"]) == 0  # the bundled model
    from_wav, from_mp3 = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert from_wav["text"].strip(), "the demo model must hear the sentence"
    assert from_mp3["duration_s"] == pytest.approx(from_wav["duration_s"], abs=0.04)  # within one 36 ms frame
    pairs = [(a, b) for a, b in zip(from_wav["words"], from_mp3["words"], strict=False) if a["text"] == b["text"]]
    assert len(pairs) >= 0.8 * len(from_wav["words"])  # 24 kbit/s may blur a word, not shift the others
    for in_wav, in_mp3 in pairs:
        assert in_mp3["start_s"] == pytest.approx(in_wav["start_s"], abs=0.021), in_wav["text"]  # one CTC frame


def test_a_missing_audio_file_is_exit_2_before_the_model_loads(tmp_path, capsys, monkeypatch):
    from engine.sources.in_process import InProcessSource

    (tmp_path / "a.wav").write_bytes(encode(speechlike(0.5, 16_000), 16_000))
    monkeypatch.setattr(InProcessSource, "start", lambda self: pytest.fail("the model was loaded"))
    missing = tmp_path / "missing.wav"
    assert main(["transcribe", str(tmp_path / "a.wav"), str(missing)]) == 2  # the README's status for bad input
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"asr transcribe: no such audio file: {missing}\n"


def test_on_a_terminal_a_long_file_shows_its_progress_in_audio_seconds(tmp_path):
    """The bar is the engine's progress callback drawn by tqdm on stderr, only when stderr is a terminal."""
    duration_s = 240.0
    (tmp_path / "long.wav").write_bytes(encode(speechlike(duration_s, 16_000, seed=3), 16_000))
    controller, terminal = os.openpty()
    # A new pseudo-terminal is 0 columns wide, where tqdm draws an empty bar; a user's terminal has a width.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    drawn_chunks: list[bytes] = []

    def read_terminal() -> None:  # read while it draws: a terminal's buffer is small
        with contextlib.suppress(OSError):  # EIO once the other end is closed
            while chunk := os.read(controller, 65536):
                drawn_chunks.append(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    try:
        done = subprocess.run(
            ["asr", "transcribe", str(tmp_path / "long.wav")],
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=300,
            check=False,
        )
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    drawn = b"".join(drawn_chunks)
    assert done.returncode == 0, drawn.decode(errors="replace")[-2000:]
    assert done.stdout.strip(), "the transcript is printed on stdout, not mixed with the bar"
    seconds_done = [float(n) for n in re.findall(rb"\| ([\d.]+)/240\.0 s audio", drawn)]
    assert len(seconds_done) >= 2 and seconds_done == sorted(seconds_done), drawn.decode(errors="replace")[-2000:]
    assert 0 < seconds_done[-1] <= duration_s
