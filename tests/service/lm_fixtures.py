"""The small LM corpus and clips shared by the gateway's LM tests and the `asr lm`/`asr transcribe --lm` tests."""

from __future__ import annotations

from pathlib import Path

from ctc_decoding import build_language_model
from model_export.contract import read_vocab, resolve_version_dir
from tests.service.gateway_fixtures import encode, speechlike

# Short words of frequent letters, so noise logits still spell some of them.
SENTENCES = ["A TEN TO NOT", "NOT A TEN", "IT IS ON", "SEE HER EAT", "AT ONE TO TEN", "HE IS IN", "TO SEE A TOE"]
LEXICON = {word for sentence in SENTENCES for word in sentence.split()}
CLIPS = [encode(speechlike(0.8 + 0.4 * i, 16_000, seed=300 + i), 16_000) for i in range(5)]


def build_test_lm(model_base_path: Path, out_dir: Path) -> Path:
    """Returns `out_dir`, now an LM folder over SENTENCES for the vocabulary of the model at `model_base_path`."""
    build_language_model(SENTENCES, read_vocab(resolve_version_dir(model_base_path).path), out_dir)
    return out_dir
