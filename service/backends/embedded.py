"""The embedded backend: the SavedModel runs in this process, fed by the micro-batcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from ctc_decoding import LanguageModelError, LexiconBeamDecoder
from ctc_decoding.lexicon_decoder import log_softmax
from service.batching import MicroBatcher
from service.core.config import MODEL_SAMPLE_RATE_HZ, Settings
from service.core.errors import BackendUnavailableError, ModelLoadError
from service.language_model import LOGITS_SIGNATURE, load_decoder
from service.savedmodel import (
    GREEDY_DECODER,
    ModelInfo,
    describe_signature,
    pad_batch,
    read_signature_defs,
    read_vocab,
    resolve_version_dir,
)

logger = logging.getLogger(__name__)


class SavedModelTranscriber:
    """A loaded SavedModel signature as a blocking `transcribe_batch` (no asyncio; used by the CLI too).

    With a `decoder`, the model's `logits` signature runs and the decoder turns logits into words; without
    one, `signature_name` (greedy CTC in the graph) gives the transcripts.
    """

    def __init__(
        self,
        model_path: Path,
        signature_name: str = "serving_default",
        decoder: LexiconBeamDecoder | None = None,
    ) -> None:
        self.model_dir = resolve_version_dir(model_path)
        self.decoder = decoder
        self.signature_name = LOGITS_SIGNATURE if decoder else signature_name
        signature_defs = read_signature_defs(self.model_dir.path)
        if self.signature_name not in signature_defs:
            raise ModelLoadError(
                f"{self.model_dir.path} has no signature {self.signature_name!r}; it has {sorted(signature_defs)}"
            )
        self.inputs, self.outputs = describe_signature(signature_defs[self.signature_name])
        self.vocab = read_vocab(self.model_dir.path)
        if decoder is not None:
            if self.vocab is None:
                raise ModelLoadError(
                    f"{self.model_dir.path} has no assets/vocab.json to check the language model against"
                )
            try:
                decoder.check_vocabulary(self.vocab)
            except LanguageModelError as error:
                raise ModelLoadError(str(error)) from error
        try:
            self._loaded = tf.saved_model.load(str(self.model_dir.path))
        except (OSError, ValueError, tf.errors.OpError) as error:
            raise ModelLoadError(f"cannot load the SavedModel at {self.model_dir.path}: {error}") from error
        self._signature = self._loaded.signatures[self.signature_name]

    def _call(self, utterances: Sequence[np.ndarray]) -> dict[str, tf.Tensor]:
        """Return the signature's outputs for `utterances`, zero-padded into one batch."""
        audio, audio_length = pad_batch(utterances)
        return self._signature(audio=tf.constant(audio), audio_length=tf.constant(audio_length))

    def transcribe_batch(self, utterances: Sequence[np.ndarray]) -> list[str]:
        """Return one transcript per utterance, computed in one padded model call."""
        if self.decoder is not None:
            return [self.decoder.decode(log_softmax(logits)) for logits in self.logits_batch(utterances)]
        return [text.decode("utf-8") for text in self._call(utterances)["transcript"].numpy()]

    def logits_batch(self, utterances: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return each utterance's logits, [frames, vocab] float32, from one padded call (LM decoding only)."""
        if self.decoder is None:
            raise ValueError("logits_batch needs the transcriber built with a decoder (it calls `logits`)")
        outputs = self._call(utterances)
        logits, logit_length = outputs["logits"].numpy(), outputs["logit_length"].numpy()
        return [row[: int(length)] for row, length in zip(logits, logit_length, strict=True)]

    @property
    def decoder_description(self) -> str:
        return self.decoder.describe() if self.decoder else GREEDY_DECODER


class EmbeddedBackend:
    """Runs the SavedModel in-process; concurrent requests are micro-batched into one call."""

    kind = "embedded"

    def __init__(
        self,
        settings: Settings,
        on_batch: Callable[[int], None] = lambda size: None,
    ) -> None:
        self._settings = settings
        self._on_batch = on_batch
        self._transcriber: SavedModelTranscriber | None = None
        self._batcher: MicroBatcher | None = None

    async def start(self) -> None:
        # Loading takes seconds; off the loop so the process still answers /healthz meanwhile.
        decoder = await asyncio.to_thread(load_decoder, self._settings)
        self._transcriber = await asyncio.to_thread(
            SavedModelTranscriber, self._settings.model_path, self._settings.signature_name, decoder
        )
        # A warm-up call traces and allocates, so the first real request is not the slow one.
        await asyncio.to_thread(self._transcriber.transcribe_batch, [np.zeros(MODEL_SAMPLE_RATE_HZ, dtype=np.float32)])
        self._batcher = MicroBatcher(
            self._transcriber.transcribe_batch,
            max_batch_size=self._settings.batch_max_size,
            max_wait_ms=self._settings.batch_max_wait_ms,
            max_queue_size=self._settings.queue_max_size,
            on_batch=self._on_batch,
        )
        self._batcher.start()
        logger.info(
            "embedded model loaded",
            extra={"model_dir": str(self._transcriber.model_dir.path), "version": self.version},
        )

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.stop()

    @property
    def version(self) -> int | None:
        return self._transcriber.model_dir.version if self._transcriber else None

    async def transcribe(self, samples: np.ndarray) -> str:
        if self._batcher is None:
            raise BackendUnavailableError("the model is still loading")
        return await self._batcher.submit(samples)

    async def is_ready(self) -> bool:
        return self._batcher is not None

    async def model_info(self) -> ModelInfo:
        if self._transcriber is None:
            raise BackendUnavailableError("the model is still loading")
        return ModelInfo(
            name=self._settings.model_name,
            version=self._transcriber.model_dir.version,
            signature_name=self._transcriber.signature_name,
            inputs=self._transcriber.inputs,
            outputs=self._transcriber.outputs,
            sample_rate_hz=MODEL_SAMPLE_RATE_HZ,
            vocab=self._transcriber.vocab,
            decoder=self._transcriber.decoder_description,
        )

    @property
    def queue_depth(self) -> int:
        return self._batcher.queue_depth if self._batcher else 0
