"""The bundled demo model end to end: real recordings in, the right words out, via `asr transcribe` and the gateway.

The files were fixed before the model was evaluated (see tests/fixtures/*/README.md): take 0 of every digit by
the FSDD speaker held out of training, and the first held-out sentences in two festival voices, a synthesizer
never used for training.

By default `asr transcribe` and the gateway decode the bundled model with its bundled word 3-gram LM
(service/bundled_model/demo/1/assets.extra/lm, inside the model); `--no-lm` gives greedy decoding, tested here too.

The thresholds guard the model as it is, not the goals (held-out FSDD WER <= 5%, festival WER <= 10%; see
demo_model/README.md): each sits a little above what was measured, quoted beside it. A broken export, a wrong
vocabulary, untrained weights or an LM that no longer fits the model score near 100% and fail; retraining
towards the targets should tighten them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import jiwer
import pytest
from fastapi.testclient import TestClient

from cli.main import main
from service.config import BUNDLED_MODEL_PATH, Settings
from service.main import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DIGITS = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
FSDD_FILES = {FIXTURES / "fsdd" / f"{digit}_jackson_0.wav": DIGITS[digit] for digit in range(10)}
with open(FIXTURES / "festival" / "transcripts.tsv", newline="") as manifest:
    FESTIVAL_FILES = {FIXTURES / "festival" / name: text for name, text in csv.reader(manifest, delimiter="\t")}


def transcribe_with_cli(paths: list[Path], *flags: str) -> dict[Path, str]:
    """Runs `asr transcribe --json FLAGS PATHS...` (one command, the files one after another) and parses its lines."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["transcribe", "--json", *flags, *map(str, paths)]) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    return {Path(line["file"]): line["text"] for line in lines}


@pytest.fixture(scope="module")
def cli_text() -> dict[str, dict[Path, str]]:
    """What `asr transcribe` prints for every fixture file, by decoding: "lm" (the default) and "greedy".

    Two commands for the whole module: each loads the model and its LM, which costs more than the files.
    """
    return {
        "lm": transcribe_with_cli([*FSDD_FILES, *FESTIVAL_FILES]),
        "greedy": transcribe_with_cli(list(FESTIVAL_FILES), "--no-lm"),
    }


def test_the_demo_model_is_bundled_with_the_package():
    assert (BUNDLED_MODEL_PATH / "1" / "saved_model.pb").exists()
    assert "CC BY-SA 4.0" in (BUNDLED_MODEL_PATH / "README.md").read_text()


def test_asr_transcribe_recognises_the_held_out_speakers_digits(cli_text):
    transcripts = cli_text["lm"]
    correct = sum(transcripts[path] == expected for path, expected in FSDD_FILES.items())
    assert correct >= 7, transcripts  # measured: 8 of 10 (TWO comes out as ZERO, THREE as THE)


def test_asr_transcribe_recognises_festival_sentences(cli_text):
    transcripts = cli_text["lm"]
    hypotheses = [transcripts[path] for path in FESTIVAL_FILES]
    # measured: WER 3.8%, CER 1.6% (with the bundled LM)
    assert jiwer.wer(list(FESTIVAL_FILES.values()), hypotheses) <= 0.10, transcripts
    assert jiwer.cer(list(FESTIVAL_FILES.values()), hypotheses) <= 0.05, transcripts


def test_the_language_model_beats_greedy_decoding_on_festival_sentences(cli_text):
    references = list(FESTIVAL_FILES.values())
    with_lm, greedy = cli_text["lm"], cli_text["greedy"]
    lm_wer = jiwer.wer(references, [with_lm[path] for path in FESTIVAL_FILES])
    greedy_wer = jiwer.wer(references, [greedy[path] for path in FESTIVAL_FILES])
    assert greedy_wer <= 0.25, greedy  # measured: 15.4%, misspellings such as TWRO and EIYGHT
    assert lm_wer < greedy_wer, (with_lm, greedy)


def test_the_gateway_returns_what_the_cli_returns(cli_text):
    paths = [*list(FSDD_FILES)[:3], *list(FESTIVAL_FILES)[:2]]
    expected = cli_text["lm"]
    with TestClient(create_app(Settings())) as client:
        [model] = client.get("/v1/models").json()["data"]
        assert model["decoder"] == "lm"
        assert model["decoder_description"].startswith("lexicon beam search, 3-gram LM over 270 words")
        for path in paths:
            response = client.post("/v1/transcribe", files={"file": (path.name, path.read_bytes(), "audio/wav")})
            assert response.status_code == 200, response.text
            assert response.json()["text"] == expected[path]
