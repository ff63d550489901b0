"""The gateway's side of LM decoding: load the configured language-model folder, or none.

With an LM, a backend asks the SavedModel for its `logits` signature and decodes here, in the gateway, so the
same folder works whether the model runs in-process or in TF Serving (which cannot run this decoder).
"""

from __future__ import annotations

import logging

from ctc_decoding import LanguageModelError, LexiconBeamDecoder
from service.core.config import Settings, language_model_path
from service.core.errors import ModelLoadError

logger = logging.getLogger(__name__)

LOGITS_SIGNATURE = "logits"


def load_decoder(settings: Settings) -> LexiconBeamDecoder | None:
    """Return the settings' LM decoder, or None for greedy decoding; a broken folder raises `ModelLoadError`."""
    lm_dir = language_model_path(settings)
    if lm_dir is None:
        return None
    try:
        decoder = LexiconBeamDecoder(lm_dir)
    except LanguageModelError as error:
        raise ModelLoadError(f"cannot use the language model at {lm_dir}: {error}") from error
    logger.info("language model loaded", extra={"lm_dir": str(lm_dir), "decoder": decoder.describe()})
    return decoder
