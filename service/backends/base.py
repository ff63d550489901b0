"""What the HTTP layer needs from a model backend, whichever process runs the model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import numpy as np

from model_export.contract import LOGITS_SIGNATURE
from service.api.schemas import EmbeddedRuntime, ModelCard
from service.core.config import MODEL_SAMPLE_RATE_HZ
from transcription import ChunkedTranscriber, Transcript, Word


class Backend(Protocol):
    """A transcriber of 16 kHz mono float32 audio of any length; every method is safe to await on the event loop."""

    kind: str  # "embedded" or "tfserving", reported by /v1/models

    async def start(self) -> None:
        """Connect or load; raises `ModelLoadError` / `BackendUnavailableError` if that cannot work."""

    async def close(self) -> None:
        """Release threads, channels and queued requests."""

    async def transcribe(self, samples: np.ndarray, decoder: str | None = None) -> Transcript:
        """Return the timed transcript of `samples` ([samples] float32, 16 kHz); `decoder`: None (the configured
        default), "greedy" or "lm" (`UnknownDecoderError` if not configured)."""

    def transcribe_chunks(self, samples: np.ndarray, decoder: str | None = None) -> AsyncIterator[list[Word]]:
        """Yield the same words as `transcribe`, chunk by chunk as they become final."""

    async def is_ready(self) -> bool:
        """Return whether a transcription request would reach a loaded model now."""

    async def model_info(self) -> ModelCard:
        """Return the served model's name, version, signature, vocabulary and decoders."""

    @property
    def queue_depth(self) -> int:
        """Requests accepted but not yet answered by the model."""


class ChunkedBackendMixin:
    """`transcribe` and `transcribe_chunks` of a backend whose `_ready_transcriber()` gives its ChunkedTranscriber
    (or raises `BackendUnavailableError` while it starts)."""

    def _ready_transcriber(self) -> ChunkedTranscriber:
        raise NotImplementedError

    async def transcribe(self, samples: np.ndarray, decoder: str | None = None) -> Transcript:
        return await self._ready_transcriber().transcribe(samples, decoder)

    async def transcribe_chunks(self, samples: np.ndarray, decoder: str | None = None) -> AsyncIterator[list[Word]]:
        async for words in self._ready_transcriber().transcribe_chunks(samples, decoder):
            yield words


def model_card(
    name: str,
    version: int | None,
    backend: str,
    inputs: dict,
    outputs: dict,
    vocab: list[str] | None,
    transcriber: ChunkedTranscriber,
    runtime: EmbeddedRuntime | None = None,
) -> ModelCard:
    """Return the `/v1/models` record of a served model and its decoders."""
    return ModelCard(
        name=name,
        version=version,
        backend=backend,
        signature_name=LOGITS_SIGNATURE,
        inputs=inputs,
        outputs=outputs,
        sample_rate_hz=MODEL_SAMPLE_RATE_HZ,
        vocab=vocab,
        decoder=transcriber.default_decoder,
        decoders=sorted(transcriber.decoders),
        decoder_description=transcriber.decoder(None).describe(),
        runtime=runtime,
    )
