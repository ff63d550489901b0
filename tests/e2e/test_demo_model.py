"""The bundled demo model end to end: real recordings in, the right words out, via `asr transcribe` and the gateway.

The files were fixed before the model was evaluated (see tests/fixtures/*/README.md): take 0 of every digit by
the FSDD speaker held out of training, and the first held-out sentences in two festival voices, a synthesizer
never used for training.

The thresholds guard the model as it is, not the goals: the bundled model (9,800 steps, about 3 h on two CPU
cores) gets 6 of these ten digits right and scores WER 21% / CER 7% on these eight sentences, short of the
targets (held-out FSDD WER <= 5%, festival WER <= 10%; see demo_model/README.md). A broken export, a wrong
vocabulary or untrained weights score near 100% and fail; retraining to the targets should tighten them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jiwer
import pytest
from fastapi.testclient import TestClient

from cli.main import main
from service.core.config import BUNDLED_MODEL_PATH, Settings
from service.main import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DIGITS = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
FSDD_FILES = {FIXTURES / "fsdd" / f"{digit}_jackson_0.wav": DIGITS[digit] for digit in range(10)}
with open(FIXTURES / "festival" / "transcripts.tsv", newline="") as manifest:
    FESTIVAL_FILES = {FIXTURES / "festival" / name: text for name, text in csv.reader(manifest, delimiter="\t")}


def transcribe_with_cli(paths: list[Path], capsys: pytest.CaptureFixture[str]) -> dict[Path, str]:
    assert main(["transcribe", "--json", *map(str, paths)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return {Path(line["file"]): line["text"] for line in lines}


def test_the_demo_model_is_bundled_with_the_package():
    assert (BUNDLED_MODEL_PATH / "1" / "saved_model.pb").exists()
    assert "CC BY-SA 4.0" in (BUNDLED_MODEL_PATH / "README.md").read_text()


def test_asr_transcribe_recognises_the_held_out_speakers_digits(capsys):
    transcripts = transcribe_with_cli(list(FSDD_FILES), capsys)
    correct = sum(transcripts[path] == expected for path, expected in FSDD_FILES.items())
    assert correct >= 5, transcripts  # measured: 6 of 10 ("ZERO", "ONE", "THREE", "SEVEN", "EIGHT", "NINE")


def test_asr_transcribe_recognises_festival_sentences(capsys):
    transcripts = transcribe_with_cli(list(FESTIVAL_FILES), capsys)
    hypotheses = [transcripts[path] for path in FESTIVAL_FILES]
    assert jiwer.cer(list(FESTIVAL_FILES.values()), hypotheses) <= 0.12, transcripts  # measured: 0.069
    # Most words come out right: measured WER 21%; three of the eight sentences are exact.
    assert jiwer.wer(list(FESTIVAL_FILES.values()), hypotheses) <= 0.35, transcripts


def test_the_gateway_returns_what_the_cli_returns(capsys):
    paths = [*list(FSDD_FILES)[:3], *list(FESTIVAL_FILES)[:2]]
    expected = transcribe_with_cli(paths, capsys)
    with TestClient(create_app(Settings())) as client:
        for path in paths:
            response = client.post("/v1/transcribe", files={"file": (path.name, path.read_bytes(), "audio/wav")})
            assert response.status_code == 200, response.text
            assert response.json()["text"] == expected[path]
