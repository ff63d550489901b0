"""`convert_pyctcdecode_folder`: the LM a Hub checkpoint was published with, as the lexicon decoder reads it."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from ctc_decoding import LanguageModelError, LexiconBeamDecoder, build_language_model
from ctc_decoding.language_model import ARPA_FILE
from ctc_decoding.pyctcdecode_folder import convert_pyctcdecode_folder

TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]
SENTENCES = ["HELLO WORLD", "HELLO THERE", "GOOD MORNING WORLD", "GOOD NIGHT"]


def _published(tmp_path: Path, sentences: list[str], attrs: dict) -> Path:
    """pyctcdecode's `language_model/` folder: a KenLM ARPA file, unigrams.txt and attrs.json."""
    built, folder = tmp_path / "built", tmp_path / "language_model"
    build_language_model(sentences, [*TOKENS, *"helowrd"], built)
    folder.mkdir()
    shutil.copyfile(built / ARPA_FILE, folder / "4gram.arpa")
    (folder / "unigrams.txt").write_text("\n".join(sorted({w for s in sentences for w in s.split()})))
    (folder / "attrs.json").write_text(json.dumps(attrs))
    return folder


def test_the_published_lm_decodes_with_pyctcdecodes_weights_in_flashlights_scale(tmp_path):
    config = convert_pyctcdecode_folder(
        _published(tmp_path, SENTENCES, {"alpha": 0.5, "beta": 1.0}), TOKENS, tmp_path / "lm"
    )
    assert (config.order, config.word_score) == (3, 1.0)
    assert config.lm_weight == pytest.approx(0.5 * math.log(10))
    decoder = LexiconBeamDecoder(tmp_path / "lm")
    spelled = [TOKENS.index(token) for token in [*"HEL", "<pad>", *"LO|WORLD|"]]  # a blank between the Ls
    log_probs = np.full((len(spelled), len(TOKENS)), -10.0, np.float32)
    log_probs[np.arange(len(spelled)), spelled] = 0.0
    assert decoder.decode(log_probs) == "HELLO WORLD"


def test_a_published_lm_the_model_cannot_use_is_refused_by_name(tmp_path):
    lowercase = _published(tmp_path, ["hello world"], {"alpha": 0.5, "beta": 1.0})
    with pytest.raises(LanguageModelError, match=r"2 of its 2 words use characters outside .* \['hello', 'world'\]"):
        convert_pyctcdecode_folder(lowercase, TOKENS, tmp_path / "lm")
    assert not (tmp_path / "lm" / ARPA_FILE).exists()
    (lowercase / "4gram.arpa").rename(lowercase / "4gram.bin")  # a binary KenLM model: no unigrams to read
    with pytest.raises(LanguageModelError, match=r"no ARPA language model \(\*\.arpa\), only \['4gram.bin'"):
        convert_pyctcdecode_folder(lowercase, TOKENS, tmp_path / "lm")
