"""Makes our language-model folder from pyctcdecode's `language_model/`, the LM a Hub checkpoint may carry.

Hub repos whose processor is `Wav2Vec2ProcessorWithLM` (e.g. patrickvonplaten/wav2vec2-base-100h-with-lm) keep
pyctcdecode's folder beside the weights: `attrs.json` (the weights `alpha` and `beta`), `unigrams.txt` and the
KenLM model. Its ARPA file is what our folder's `lm.arpa` is; only the weights change scale. pyctcdecode adds
`alpha x LM log-prob` in natural log (it multiplies KenLM's log10 scores by ln 10) and `beta` per word; flashlight's
KenLM scores stay in log10, so the same search weighs the LM by `alpha x ln 10` and each word by `beta`.
A binary KenLM model (`.bin`) has no readable unigrams for our lexicon: such a folder is refused by name.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from ctc_decoding.errors import LanguageModelError
from ctc_decoding.language_model import (
    ARPA_FILE,
    DecoderConfig,
    arpa_unigrams,
    kenlm_arpa,
    unspellable_words,
    write_decoder_config,
)

PYCTCDECODE_DIR = "language_model"
ATTRS_FILE = "attrs.json"
# pyctcdecode's defaults (its `constants.py`), used when attrs.json leaves a weight out.
DEFAULT_ALPHA = 0.5
DEFAULT_BETA = 1.5

_NGRAM_COUNT = re.compile(r"^ngram (\d+)=\d+$")

__all__ = ["PYCTCDECODE_DIR", "convert_pyctcdecode_folder", "has_pyctcdecode_folder"]


def has_pyctcdecode_folder(checkpoint_dir: Path) -> bool:
    """Whether the checkpoint carries pyctcdecode's `language_model/` folder (its `attrs.json`)."""
    return (checkpoint_dir / PYCTCDECODE_DIR / ATTRS_FILE).is_file()


def convert_pyctcdecode_folder(source_dir: Path, tokens: Sequence[str], out_dir: Path) -> DecoderConfig:
    """Writes our LM folder (`lm.arpa`, `decoder.json`) for the CTC vocabulary `tokens` into `out_dir` from
    pyctcdecode's folder `source_dir`; returns its config. Raises `LanguageModelError` for a folder without an
    ARPA model, or whose words the vocabulary cannot spell (the lexicon search could never output them)."""
    arpa_files = sorted(source_dir.glob("*.arpa"))
    if not arpa_files:
        found = sorted(path.name for path in source_dir.iterdir())
        raise LanguageModelError(f"{source_dir} has no ARPA language model (*.arpa), only {found}")
    try:
        attrs = json.loads((source_dir / ATTRS_FILE).read_text(encoding="utf-8"))
        alpha, beta = float(attrs.get("alpha", DEFAULT_ALPHA)), float(attrs.get("beta", DEFAULT_BETA))
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise LanguageModelError(f"{source_dir / ATTRS_FILE} is not pyctcdecode's attrs.json: {error}") from error
    arpa_text = kenlm_arpa(arpa_files[0].read_text(encoding="utf-8"))
    orders = [int(match.group(1)) for line in arpa_text.splitlines() if (match := _NGRAM_COUNT.match(line.strip()))]
    if not orders:
        raise LanguageModelError(f"{arpa_files[0]} has no n-gram counts in its \\data\\ section")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ARPA_FILE).write_text(arpa_text, encoding="utf-8")
    words = arpa_unigrams(out_dir / ARPA_FILE)
    bad_words = unspellable_words(words, tokens)
    if bad_words:
        (out_dir / ARPA_FILE).unlink()  # no half-made folder for the next start to trip over
        raise LanguageModelError(
            f"{arpa_files[0]}: {len(bad_words)} of its {len(words)} words use characters outside the model's "
            f"vocabulary, e.g. {bad_words[:5]}"
        )
    config = DecoderConfig(
        tokens=list(tokens),
        order=max(orders),
        lm_weight=alpha * math.log(10),
        word_score=beta,
        notes={"source": f"pyctcdecode {arpa_files[0].name}", "alpha": alpha, "beta": beta, "words": len(words)},
    )
    write_decoder_config(out_dir, config)
    return config
