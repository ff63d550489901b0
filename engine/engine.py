"""The engine: one model's transcriber, the one object every door and `asr transcribe` call.

It owns what turns audio into a Transcript for one model: the model's assets (vocabulary, frame geometry, language
model), its logits source (in-process or TF Serving: `engine.sources`), admission, chunking, decoding and
transcript assembly (`transcription.ChunkedTranscriber`). The doors (HTTP, OpenAI, WebSocket, Wyoming, the CLI)
only move audio in and render what comes out; none of them assembles a transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.admission import RequestAdmission
from engine.decoding import ModelAssets, build_transcriber, read_model_assets
from engine.errors import BackendError, BackendUnavailableError
from engine.memory import release_free_memory
from engine.sources import LogitsSource, build_source
from model_export.contract import LOGITS_SIGNATURE
from wav2vec2.config import SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from service.config import Settings
    from transcription import ChunkedTranscriber, Transcript, Word
    from transcription.pipeline import LogitsFn, ProgressFn, WrapLogitsFn

logger = logging.getLogger(__name__)

# Requests with at least this much audio give their freed memory back to the OS when they end (engine.memory):
# their chunks and logits pass through the allocator's arenas, a short request's barely do.
RELEASE_MEMORY_AFTER_AUDIO_S = 60.0


@dataclass(frozen=True)
class EngineDescription:
    """What an engine serves: its model, the signature it calls, and how it decodes (the doors' model card)."""

    name: str
    version: int | None
    backend: str  # the logits source's kind: "embedded" or "tfserving"
    signature_name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    sample_rate_hz: int
    vocab: list[str]
    decoder: str  # the default decoder's name
    decoders: list[str]
    decoder_description: str
    runtime: dict[str, Any] | None  # the in-process runtime's threads and batching; None with TF Serving


class Engine:
    """Transcribes 16 kHz mono float32 audio of any length with one model; safe to await on the event loop."""

    def __init__(self, settings: Settings, source: LogitsSource) -> None:
        self.settings = settings
        self._source = source
        self._assets: ModelAssets | None = None
        self._decode_pool: ThreadPoolExecutor | None = None
        self._transcriber: ChunkedTranscriber | None = None
        self._admission = RequestAdmission(
            settings.admission.queue_max_size, settings.admission.queue_max_audio_h * 3600.0
        )
        self._loaded_version: int | None = None

    @property
    def kind(self) -> str:
        return self._source.kind

    @property
    def version(self) -> int | None:
        """The version that answers: the one TF Serving said answered last, else the one loaded."""
        return self._source.served_version or self._loaded_version

    async def start(self) -> None:
        """Read the assets, build the decoders, start the source; `ModelLoadError` if any of it cannot work."""
        self._assets = await asyncio.to_thread(read_model_assets, self.settings.model.path)
        self._decode_pool = ThreadPoolExecutor(self.settings.decoding.decode_threads, thread_name_prefix="asr-decode")
        self._transcriber = await asyncio.to_thread(
            build_transcriber,
            self.settings,
            self._assets,
            self._own_lane_logits,
            self._decode_pool,
            self.settings.batching.batch_max_size,
        )
        await self._source.start()
        # TF Serving may come up after the gateway: /readyz and /v1/models say so until it does.
        with contextlib.suppress(BackendUnavailableError):
            self._loaded_version = (await self._source.describe()).version

    async def close(self) -> None:
        await self._source.close()
        if self._decode_pool is not None:
            self._decode_pool.shutdown(wait=True, cancel_futures=True)

    def check_admission(self, samples: np.ndarray) -> None:
        """Raise `QueueFullError` if a request of `samples` would be refused now (a stream asks before its 200)."""
        self._admission.check(len(samples) / SAMPLE_RATE_HZ)

    async def transcribe(
        self,
        samples: np.ndarray,
        decoder: str | None = None,
        on_progress: ProgressFn | None = None,
        wrap_logits: WrapLogitsFn | None = None,
    ) -> Transcript:
        """Return the timed transcript of `samples`, stamped with the model version that answered.

        `decoder`: None (the configured default), "greedy" or "lm" (`UnknownDecoderError` if not configured);
        `on_progress(done_s)`: called as the audio is transcribed, with the seconds done so far; `wrap_logits`: a
        caller's wrapper of this request's model call (a live stream's cache), given the source's model halves
        where it has them.
        """
        transcriber = self._ready_transcriber()
        async with self._request(samples) as logits_fn:
            if wrap_logits is not None:
                logits_fn = wrap_logits(logits_fn, self._source.feature_halves())
            transcript = await transcriber.transcribe(samples, decoder, logits_fn, on_progress)
        return dataclasses.replace(transcript, model_version=self.version)

    async def transcribe_chunks(self, samples: np.ndarray, decoder: str | None = None) -> AsyncIterator[list[Word]]:
        """Yield the same words as `transcribe`, chunk by chunk as they become final."""
        transcriber = self._ready_transcriber()
        async with (
            self._request(samples) as logits_fn,
            contextlib.aclosing(transcriber.transcribe_chunks(samples, decoder, logits_fn)) as pieces,
        ):
            async for words in pieces:
                yield words

    async def is_ready(self) -> bool:
        """Whether a request would reach a loaded model now."""
        return self._transcriber is not None and await self._source.is_ready()

    async def describe(self) -> EngineDescription:
        """The served model, its signature and decoders; `BackendUnavailableError` while it loads."""
        transcriber = self._ready_transcriber()
        source = await self._source.describe()
        default = transcriber.decoder(None)
        return EngineDescription(
            name=source.name,
            version=source.version,
            backend=self.kind,
            signature_name=LOGITS_SIGNATURE,
            inputs=source.inputs,
            outputs=source.outputs,
            sample_rate_hz=SAMPLE_RATE_HZ,
            vocab=list(self._assets.vocab),
            decoder=default.name,
            decoders=sorted(transcriber.decoders),
            decoder_description=default.describe(),
            runtime=source.runtime,
        )

    @property
    def queue_depth(self) -> int:
        """Requests admitted and not yet answered."""
        return self._admission.requests

    def _ready_transcriber(self) -> ChunkedTranscriber:
        if self._transcriber is None:
            raise BackendUnavailableError("the model is still loading")
        return self._transcriber

    @contextlib.asynccontextmanager
    async def _request(self, samples: np.ndarray) -> AsyncIterator[LogitsFn]:
        """Admit one request (or refuse it, `QueueFullError`) and give it its own model call while it runs."""
        duration_s = len(samples) / SAMPLE_RATE_HZ
        try:
            with self._admission.admit(duration_s):
                async with self._source.lane() as logits_fn:
                    yield self._checked(logits_fn)
        finally:
            if duration_s >= RELEASE_MEMORY_AFTER_AUDIO_S:
                asyncio.get_running_loop().run_in_executor(None, release_free_memory)

    async def _own_lane_logits(self, chunks: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The transcriber's default model call: a lane of its own (requests bring theirs: `_request`)."""
        async with self._source.lane() as logits_fn:
            return await self._checked(logits_fn)(chunks)

    def _checked(self, logits_fn: LogitsFn) -> LogitsFn:
        """`logits_fn`, refusing logits whose width is not the vocabulary's (a source serving another model)."""
        vocab_size = len(self._assets.vocab)

        async def checked(chunks: Sequence[np.ndarray]) -> list[np.ndarray]:
            logits = await logits_fn(chunks)
            if logits and logits[0].shape[-1] != vocab_size:
                raise BackendError(
                    f"the model gives {logits[0].shape[-1]} logits per frame, but the vocabulary at "
                    f"{self._assets.model_dir.path} has {vocab_size} tokens: with TF Serving, ASR_MODEL_PATH must "
                    "be the model TF Serving serves"
                )
            return logits

        return checked


def build_engine(settings: Settings, on_batch: Callable[[int], None] = lambda size: None) -> Engine:
    """Return the engine of `settings`' model over the source they ask for (TF Serving or in-process)."""
    return Engine(settings, build_source(settings, on_batch))
