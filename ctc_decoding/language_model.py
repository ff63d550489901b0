"""Builds and reads a language-model folder: `lm.arpa` (word n-grams) + `decoder.json` (tokens and weights).

The folder is everything the lexicon decoder needs besides the acoustic model's log-probabilities, so the
gateway can decode with it whichever process ran the model (in-process SavedModel or TF Serving):

    lm.arpa        word n-gram model in ARPA format; its unigrams are the lexicon (the only words the
                   decoder can output), each spelled with the CTC model's characters plus the word delimiter
    decoder.json   the CTC vocabulary in id order, the blank and delimiter tokens, and the beam-search weights

The n-grams are estimated by arpabo (pure Python, Kneser-Ney). KenLM, which reads them at decode time, wants
ARPA's fields separated by tabs where arpabo writes spaces and no text before `\\data\\`, so the file is
rewritten in that stricter (and still standard) form.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ctc_decoding.errors import LanguageModelError

ARPA_FILE = "lm.arpa"
CONFIG_FILE = "decoder.json"
# Kneser-Ney and Good-Turing scored within 0.3 points WER of each other on the demo dev set (docs/language-model.md).
NGRAM_SMOOTHING = "kneser_ney"
SENTENCE_MARKERS = ("<s>", "</s>", "<unk>")

_NGRAM_SECTION = re.compile(r"^\\(\d+)-grams:$")


@dataclass(frozen=True)
class DecoderConfig:
    """Beam-search settings and the vocabulary the language model was built for (`decoder.json`).

    `lm_weight` scales the n-gram log-probability against the acoustic one and `word_score` is added per word
    (it offsets the LM's pull towards fewer, shorter words); both are tuned on a dev set, never on test audio.
    """

    tokens: list[str]
    blank_token: str = "<pad>"
    word_delimiter_token: str = "|"
    order: int = 3
    lm_weight: float = 1.0
    word_score: float = 1.0
    beam_size: int = 50
    beam_threshold: float = 25.0
    notes: dict[str, object] = field(default_factory=dict)


def read_decoder_config(lm_dir: Path) -> DecoderConfig:
    """Return the folder's `DecoderConfig`; raises `LanguageModelError` naming what is missing or wrong."""
    config_path, arpa_path = lm_dir / CONFIG_FILE, lm_dir / ARPA_FILE
    for required in (config_path, arpa_path):
        if not required.is_file():
            raise LanguageModelError(
                f"{lm_dir} is not a language-model folder: {required.name} is missing (make one with `asr lm build`)"
            )
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
        config = DecoderConfig(**raw)
    except (json.JSONDecodeError, TypeError) as error:
        raise LanguageModelError(f"{config_path} is not a valid decoder config: {error}") from error
    for token in (config.blank_token, config.word_delimiter_token):
        if token not in config.tokens:
            raise LanguageModelError(f"{config_path}: token {token!r} is not in its vocabulary {config.tokens}")
    return config


def arpa_unigrams(arpa_path: Path) -> list[str]:
    """Return the words of the ARPA file's 1-gram section, sentence markers excluded: the decoder's lexicon."""
    words, in_unigrams = [], False
    with arpa_path.open(encoding="utf-8") as arpa:
        for line in arpa:
            line = line.strip()
            if line == "\\1-grams:":
                in_unigrams = True
            elif in_unigrams and line.startswith("\\"):
                break
            elif in_unigrams and line:
                fields = line.split()
                if len(fields) >= 2 and fields[1] not in SENTENCE_MARKERS:
                    words.append(fields[1])
    return words


def spell(word: str, config: DecoderConfig) -> list[str]:
    """Return the CTC token sequence of `word`: its characters, then the word delimiter."""
    return [*word, config.word_delimiter_token]


def unspellable_words(words: Iterable[str], tokens: Sequence[str]) -> list[str]:
    """Return the words holding a character the CTC vocabulary lacks (the decoder could never output them)."""
    alphabet = set(tokens)
    return sorted({word for word in words if not set(word) <= alphabet})


def kenlm_arpa(arpa_text: str) -> str:
    """Return `arpa_text` from `\\data\\` on, each n-gram line as `logprob<TAB>w1 .. wn[<TAB>backoff]`."""
    start = arpa_text.find("\\data\\")
    if start < 0:
        raise LanguageModelError("the n-gram estimator wrote no \\data\\ section")
    lines, order = [], 0
    for line in arpa_text[start:].splitlines():
        section = _NGRAM_SECTION.match(line.strip())
        if section:
            order = int(section.group(1))
        elif line.startswith("\\"):
            order = 0
        elif order and line.strip():
            fields = line.split()
            line = "\t".join([fields[0], " ".join(fields[1 : 1 + order]), *fields[1 + order :]])
        lines.append(line)
    return "\n".join(lines) + "\n"


def build_language_model(
    sentences: Iterable[str],
    tokens: Sequence[str],
    out_dir: Path,
    order: int = 3,
    **decoder_settings: object,
) -> DecoderConfig:
    """Estimate a word `order`-gram model on `sentences` and write the folder; return its config.

    `tokens` is the acoustic model's CTC vocabulary in id order (its `vocab.json`); every word must be
    spellable with it. `decoder_settings` override `DecoderConfig` defaults (lm_weight, word_score, ...).
    """
    from arpabo import ArpaBoLM  # building is rare; serving only reads the folder
    from arpabo.arpa_io import write_arpa

    lines = [" ".join(sentence.split()) for sentence in sentences]
    lines = [line for line in lines if line]
    if not lines:
        raise LanguageModelError("no sentences to build a language model from")
    config = DecoderConfig(tokens=list(tokens), order=order, **decoder_settings)  # type: ignore[arg-type]
    bad_words = unspellable_words((word for line in lines for word in line.split()), config.tokens)
    if bad_words:
        raise LanguageModelError(
            f"{len(bad_words)} words use characters outside the model's vocabulary, e.g. {bad_words[:5]}; "
            "normalise the text the way the model's transcripts are written (case, digits, punctuation)"
        )
    estimator = ArpaBoLM(max_order=order, smoothing_method=NGRAM_SMOOTHING, case=None, unicode_norm=False)
    estimator.read_corpus(io.StringIO("\n".join(lines)))
    estimator.compute()
    arpa = io.StringIO()
    write_arpa(estimator, arpa)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ARPA_FILE).write_text(kenlm_arpa(arpa.getvalue()), encoding="utf-8")
    notes = {"sentences": len(lines), "words": len({w for line in lines for w in line.split()}), **config.notes}
    config = DecoderConfig(**{**asdict(config), "notes": notes})
    write_decoder_config(out_dir, config)
    return config


def write_decoder_config(lm_dir: Path, config: DecoderConfig) -> None:
    """Write `config` as the folder's `decoder.json` (after building, or after tuning its weights)."""
    (lm_dir / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=1) + "\n", encoding="utf-8")
