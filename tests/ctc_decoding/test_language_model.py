"""`build_language_model` / `read_decoder_config`: the LM folder a user builds with `asr lm build`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctc_decoding import LanguageModelError, LexiconBeamDecoder, build_language_model, read_decoder_config
from ctc_decoding.language_model import ARPA_FILE, CONFIG_FILE, kenlm_arpa

TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]
SENTENCES = ["HELLO WORLD", "HELLO THERE", "GOOD MORNING WORLD", "GOOD NIGHT", "IT'S A GOOD WORLD"]


def test_build_writes_a_folder_the_decoder_loads(tmp_path: Path) -> None:
    config = build_language_model(SENTENCES, TOKENS, tmp_path, order=3, lm_weight=0.7)

    assert (tmp_path / ARPA_FILE).read_text().startswith("\\data\\")
    assert json.loads((tmp_path / CONFIG_FILE).read_text())["lm_weight"] == 0.7
    assert read_decoder_config(tmp_path) == config
    assert config.notes == {"sentences": 5, "words": 8}
    decoder = LexiconBeamDecoder(tmp_path)
    assert decoder.num_words == 8
    assert "3-gram LM over 8 words" in decoder.describe()


def test_blank_lines_are_skipped_and_an_empty_text_is_refused(tmp_path: Path) -> None:
    build_language_model(["", "  ", "HELLO  WORLD\n"], TOKENS, tmp_path)
    assert LexiconBeamDecoder(tmp_path).num_words == 2
    with pytest.raises(LanguageModelError, match="no sentences"):
        build_language_model(["", "\n"], TOKENS, tmp_path / "empty")


def test_words_the_model_cannot_spell_are_named(tmp_path: Path) -> None:
    with pytest.raises(LanguageModelError, match=r"2 words use characters outside.*\['Hello', 'world!'\]"):
        build_language_model(["Hello world!", "GOOD NIGHT"], TOKENS, tmp_path)


def test_a_folder_without_its_files_says_which_is_missing(tmp_path: Path) -> None:
    with pytest.raises(LanguageModelError, match="decoder.json is missing"):
        read_decoder_config(tmp_path)
    build_language_model(SENTENCES, TOKENS, tmp_path)
    (tmp_path / ARPA_FILE).unlink()
    with pytest.raises(LanguageModelError, match="lm.arpa is missing"):
        LexiconBeamDecoder(tmp_path)


def test_a_config_whose_tokens_lack_the_delimiter_is_refused(tmp_path: Path) -> None:
    build_language_model(SENTENCES, TOKENS, tmp_path)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    config["tokens"] = [token for token in config["tokens"] if token != "|"]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(LanguageModelError, match="'\\|' is not in its vocabulary"):
        read_decoder_config(tmp_path)


def test_arpa_lines_are_rewritten_with_tabs_for_kenlm() -> None:
    arpa = (
        "comment line\n\\data\\\nngram 1=2\nngram 2=1\n\n"
        "\\1-grams:\n-1.0 <s> -0.5\n-0.3 A\n\n\\2-grams:\n-0.2 <s> A\n\n\\end\\\n"
    )

    rewritten = kenlm_arpa(arpa)

    assert rewritten.startswith("\\data\\\nngram 1=2\n")
    assert "-1.0\t<s>\t-0.5\n-0.3\tA\n" in rewritten
    assert "-0.2\t<s> A\n" in rewritten
    assert rewritten.endswith("\\end\\\n")
