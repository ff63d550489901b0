"""What the HTTP layer needs from a model backend, whichever process runs the model."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

import numpy as np

from model_export.contract import LOGITS_SIGNATURE
from service.admission import RequestAdmission
from service.api.schemas import EmbeddedRuntime, ModelCard
from service.core.config import MODEL_SAMPLE_RATE_HZ
from service.memory import release_free_memory
from transcription import ChunkedTranscriber, Transcript, Word
from transcription.pipeline import FeatureHalves, LogitsFn, WrapLogitsFn


class Backend(Protocol):
    """A transcriber of 16 kHz mono float32 audio of any length; every method is safe to await on the event loop."""

    kind: str  # "embedded" or "tfserving", reported by /v1/models

    async def start(self) -> None:
        """Connect or load; raises `ModelLoadError` / `BackendUnavailableError` if that cannot work."""

    async def close(self) -> None:
        """Release threads, channels and queued requests."""

    async def transcribe(
        self, samples: np.ndarray, decoder: str | None = None, wrap_logits: WrapLogitsFn | None = None
    ) -> Transcript:
        """Return the timed transcript of `samples` ([samples] float32, 16 kHz); `decoder`: None (the configured
        default), "greedy" or "lm" (`UnknownDecoderError` if not configured); `wrap_logits`: a caller's wrapper
        of this request's model call (a live stream's cache), given the model's halves where it has them."""

    def transcribe_chunks(self, samples: np.ndarray, decoder: str | None = None) -> AsyncIterator[list[Word]]:
        """Yield the same words as `transcribe`, chunk by chunk as they become final."""

    def check_admission(self, samples: np.ndarray) -> None:
        """Raise `QueueFullError` if a request of `samples` would be refused now (a stream asks before its 200)."""

    async def is_ready(self) -> bool:
        """Return whether a transcription request would reach a loaded model now."""

    async def model_info(self) -> ModelCard:
        """Return the served model's name, version, signature, vocabulary and decoders."""

    @property
    def queue_depth(self) -> int:
        """Requests accepted but not yet answered by the model."""


# Requests with at least this much audio give their freed memory back to the OS when they end (service.memory):
# their chunks and logits pass through the allocator's arenas, a short request's barely do.
RELEASE_MEMORY_AFTER_AUDIO_S = 60.0


class ChunkedBackendMixin:
    """`transcribe` and `transcribe_chunks` of a backend whose `_ready_transcriber()` gives its ChunkedTranscriber
    (or raises `BackendUnavailableError` while it starts), and whose `_model_call()` gives one request's model
    call; every request is admitted (or refused, `QueueFullError`) by `self._admission` before its work starts."""

    _admission: RequestAdmission

    def _ready_transcriber(self) -> ChunkedTranscriber:
        raise NotImplementedError

    def _model_call(self) -> contextlib.AbstractAsyncContextManager[LogitsFn]:
        """Return a block that gives one request's model call, and drops its unfinished calls when left."""
        raise NotImplementedError

    def _feature_halves(self) -> FeatureHalves | None:
        """Return the model's two halves for a stream's feature cache, or None (the runtime has the whole model)."""
        return None

    def check_admission(self, samples: np.ndarray) -> None:
        self._admission.check(len(samples) / MODEL_SAMPLE_RATE_HZ)

    @contextlib.asynccontextmanager
    async def _request(self, samples: np.ndarray) -> AsyncIterator[LogitsFn]:
        duration_s = len(samples) / MODEL_SAMPLE_RATE_HZ
        try:
            with self._admission.admit(duration_s):
                async with self._model_call() as logits_fn:
                    yield logits_fn
        finally:
            if duration_s >= RELEASE_MEMORY_AFTER_AUDIO_S:
                asyncio.get_running_loop().run_in_executor(None, release_free_memory)

    async def transcribe(
        self, samples: np.ndarray, decoder: str | None = None, wrap_logits: WrapLogitsFn | None = None
    ) -> Transcript:
        transcriber = self._ready_transcriber()
        async with self._request(samples) as logits_fn:
            if wrap_logits is not None:
                logits_fn = wrap_logits(logits_fn, self._feature_halves())
            return await transcriber.transcribe(samples, decoder, logits_fn)

    async def transcribe_chunks(self, samples: np.ndarray, decoder: str | None = None) -> AsyncIterator[list[Word]]:
        transcriber = self._ready_transcriber()
        async with (
            self._request(samples) as logits_fn,
            contextlib.aclosing(transcriber.transcribe_chunks(samples, decoder, logits_fn)) as pieces,
        ):
            async for words in pieces:
                yield words

    @property
    def queue_depth(self) -> int:
        """Requests admitted and not yet answered."""
        return self._admission.requests


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
