"""A model's decoding setup, chosen once from the settings: its assets, the decoders, the default one, the plan.

Built from the model's own assets (vocabulary, config and the language model that travels with it) whichever
source gives the logits, so the embedded and the TF Serving topologies decode the same way.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ctc_decoding import LanguageModelError, LexiconBeamDecoder
from engine.errors import ModelLoadError
from model_export.contract import ModelVersionDir, read_model_config, read_vocab, resolve_version_dir
from model_export.errors import ExportError
from transcription import (
    GREEDY,
    LANGUAGE_MODEL,
    ChunkedTranscriber,
    ChunkPlan,
    Decoder,
    FrameGeometry,
    GreedyDecoder,
    LanguageModelDecoder,
    SegmentRules,
)
from transcription.pipeline import LogitsFn
from transcription.silence import SilenceGate
from wav2vec2.config import SAMPLE_RATE_HZ
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

if TYPE_CHECKING:
    from service.config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelAssets:
    """What the engine reads from the model's directory, whichever process runs the model."""

    model_dir: ModelVersionDir
    vocab: list[str]
    tokenizer: Wav2Vec2CTCTokenizer
    geometry: FrameGeometry


def read_model_assets(model_path: Path) -> ModelAssets:
    """Return the model's vocabulary, tokenizer and frame geometry; `ModelLoadError` if they are missing."""
    try:
        model_dir = resolve_version_dir(model_path)
        config = read_model_config(model_dir.path)
        vocab = read_vocab(model_dir.path)
    except (ExportError, OSError, ValueError) as error:
        raise ModelLoadError(str(error)) from error
    if vocab is None:
        raise ModelLoadError(f"{model_dir.path} has no assets/vocab.json: export it with `asr export` to get one")
    tokenizer = Wav2Vec2CTCTokenizer.from_pretrained(model_dir.path / "assets")
    return ModelAssets(model_dir, vocab, tokenizer, FrameGeometry.of(config, SAMPLE_RATE_HZ))


def language_model_path(settings: Settings, model_dir: ModelVersionDir) -> Path | None:
    """Return the LM folder to load: ASR_LM_PATH, else the one in the model's `assets.extra/lm`, else None."""
    if settings.decoding.decoder == GREEDY:
        return None
    return settings.decoding.lm_path or model_dir.language_model_dir


def build_decoders(settings: Settings, assets: ModelAssets) -> tuple[dict[str, Decoder], str]:
    """Return the available decoders by name and the default one's name (settings' `decoder`, once)."""
    decoders: dict[str, Decoder] = {GREEDY: GreedyDecoder(assets.tokenizer)}
    lm_dir = language_model_path(settings, assets.model_dir)
    if lm_dir is None:
        if settings.decoding.decoder == LANGUAGE_MODEL:
            raise ModelLoadError(
                f"ASR_DECODER=lm but there is no language model: set ASR_LM_PATH or put one in "
                f"{assets.model_dir.path}/assets.extra/lm"
            )
        return decoders, GREEDY
    try:
        beam = LexiconBeamDecoder(lm_dir)
        beam.check_vocabulary(assets.vocab)
    except LanguageModelError as error:
        raise ModelLoadError(f"cannot use the language model at {lm_dir}: {error}") from error
    decoders[LANGUAGE_MODEL] = LanguageModelDecoder(beam)
    logger.info("language model loaded", extra={"lm_dir": str(lm_dir), "decoder": beam.describe()})
    return decoders, LANGUAGE_MODEL


def build_transcriber(
    settings: Settings, assets: ModelAssets, logits_fn: LogitsFn, decode_executor: Executor, chunks_per_call: int
) -> ChunkedTranscriber:
    """Return the chunk → model → decode → segments path over `logits_fn`, configured by `settings`."""
    decoders, default = build_decoders(settings, assets)
    try:
        plan = ChunkPlan.from_seconds(settings.decoding.chunk_s, settings.decoding.chunk_context_s, assets.geometry)
    except ValueError as error:
        raise ModelLoadError(f"ASR_CHUNK_S / ASR_CHUNK_CONTEXT_S: {error}") from error
    return ChunkedTranscriber(
        logits_fn,
        decoders,
        default,
        plan,
        decode_executor,
        chunks_per_call=chunks_per_call,
        segment_rules=SegmentRules(
            settings.decoding.segment_pause_s, settings.decoding.segment_max_s, settings.decoding.segment_max_chars
        ),
        silence_gate=SilenceGate(absolute_floor_dbfs=settings.decoding.silence_floor_dbfs),
    )
