"""CTC decoding outside the graph: lexicon-constrained beam search with a word n-gram language model."""

from ctc_decoding.errors import LanguageModelError
from ctc_decoding.language_model import (
    DecoderConfig,
    build_language_model,
    read_decoder_config,
    write_decoder_config,
)
from ctc_decoding.lexicon_decoder import BeamResult, LexiconBeamDecoder, log_softmax

__all__ = [
    "BeamResult",
    "DecoderConfig",
    "LanguageModelError",
    "LexiconBeamDecoder",
    "build_language_model",
    "log_softmax",
    "read_decoder_config",
    "write_decoder_config",
]
