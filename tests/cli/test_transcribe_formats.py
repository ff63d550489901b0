"""`asr transcribe --format/--output-dir/--quiet`: files written next to the inputs, as whisper's CLI does."""

from __future__ import annotations

import argparse
import functools
import html
import io
import json
from pathlib import Path

import pytest
import srt
import tqdm
import webvtt
from fastapi.testclient import TestClient
from openai.types.audio import TranscriptionVerbose

from cli import transcribe
from service import Settings, create_app
from tests.service.gateway_fixtures import encode, speechlike, upload


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="asr")
    transcribe.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["transcribe", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def client(model_base_path: Path):
    """The gateway over the same tiny export, to compare the command's files with."""
    with TestClient(create_app(Settings(model_path=model_base_path))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("audio")
    first, second = folder / "first.flac", folder / "second talk.wav"
    first.write_bytes(encode(speechlike(3.0, 44_100, channels=2, seed=41), 44_100, "FLAC"))
    second.write_bytes(encode(speechlike(2.0, 16_000, seed=42), 16_000))
    return first, second


@pytest.fixture(scope="module")
def served(client, clips) -> list[dict]:
    """What the gateway answers for the same files, in `json`."""
    return [client.post("/v1/transcribe", files=upload(path.read_bytes(), path.name)).json() for path in clips]


def test_format_srt_writes_a_file_next_to_each_input(clips, served, model_base_path, capsys):
    assert run_cli([*map(str, clips), "--model", str(model_base_path), "--format", "srt"]) == 0
    written = [path.with_suffix(".srt") for path in clips]
    assert capsys.readouterr().out.splitlines() == [str(path) for path in written]
    for path, expected in zip(written, served, strict=True):
        cues = list(srt.parse(path.read_text(encoding="utf-8")))
        assert [cue.content for cue in cues] == [segment["text"] for segment in expected["segments"]]


def test_output_dir_holds_every_format(clips, served, model_base_path, tmp_path, capsys):
    first = clips[0]
    out = tmp_path / "out" / "nested"
    for file_format in ("json", "text", "verbose_json", "vtt"):
        assert (
            run_cli([str(first), "--model", str(model_base_path), "--format", file_format, "--output-dir", str(out)])
            == 0
        )
    capsys.readouterr()
    assert sorted(path.name for path in out.iterdir()) == ["first.json", "first.txt", "first.verbose.json", "first.vtt"]
    assert (out / "first.txt").read_text(encoding="utf-8") == served[0]["text"] + "\n"
    as_json = json.loads((out / "first.json").read_text(encoding="utf-8"))
    assert (as_json["text"], as_json["words"], as_json["segments"]) == (
        served[0]["text"],
        served[0]["words"],
        served[0]["segments"],
    )
    verbose = TranscriptionVerbose.model_validate_json((out / "first.verbose.json").read_text(encoding="utf-8"))
    assert verbose.text == served[0]["text"]
    vtt = list(webvtt.from_string((out / "first.vtt").read_text(encoding="utf-8"), strict=True))
    assert [html.unescape(cue.text) for cue in vtt] == [segment["text"] for segment in served[0]["segments"]]
    assert not first.with_suffix(".vtt").exists()  # nothing next to the input when --output-dir is given


def test_output_dir_without_format_is_a_usage_error(clips, model_base_path, tmp_path, capsys):
    assert run_cli([str(clips[0]), "--model", str(model_base_path), "--output-dir", str(tmp_path)]) == 2
    assert "--output-dir needs --format" in capsys.readouterr().err


class _Terminal(io.StringIO):
    """stderr as an interactive terminal would be: the progress bar's only condition we cannot make real."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("quiet", "tty", "bar_shown"), [(False, True, True), (True, True, False), (False, False, False)]
)
def test_progress_bar_on_a_terminal_unless_quiet(clips, model_base_path, monkeypatch, quiet, tty, bar_shown):
    stderr = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.setattr(transcribe, "PROGRESS_DELAY_S", 0.0)  # show it even for a 3 s clip
    # Redraw on every update: by default tqdm skips redraws within 0.1 s of the last one, and a fast machine
    # transcribes the clip in less, so "3.0/3.0" would be drawn or not depending on the machine's speed.
    redraw_always = functools.partialmethod(tqdm.tqdm.__init__, mininterval=0.0, miniters=0)
    monkeypatch.setattr(tqdm.tqdm, "__init__", redraw_always)
    assert run_cli([str(clips[0]), "--model", str(model_base_path), *(["--quiet"] if quiet else [])]) == 0
    shown = stderr.getvalue()
    assert ("first.flac" in shown and "3.0/3.0" in shown) == bar_shown, shown
