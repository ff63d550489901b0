"""What a live stream keeps between two decodes of its window, so that each hop runs the model on new audio only.

Every hop re-decodes the open window (window.py), which the transcriber cuts into chunks (transcription.chunking):
- a chunk that holds the same audio as a chunk of the previous decode (all but the last chunk of a window longer
  than `ASR_CHUNK_S`, while the segment stays open) gets the same logits: they are reused, exactly;
- the last chunk grows by a hop each decode. Where the model comes in two halves (an export with `conv_features`),
  the conv features of the audio it already encoded are kept, only the frames whose receptive field reaches the new
  audio are encoded, and the transformer runs on all of them (every frame attends to every other).

The kept conv features are exact for a layer-norm feature encoder (large-lv60 and the demo model: each frame sees
only its 400 samples) on audio the export does not normalise. The export normalises each call's audio to zero
mean and unit variance, and the base model's group norm takes each channel's statistics over the whole call, so
frames encoded earlier were computed with the statistics of the shorter chunk of their hop: the new frames use
the statistics of the whole chunk, as an uncached decode would, and the kept ones differ by that much until they
are encoded again (`REFRESH_SCALE_RATIO`; measured in docs/streaming.md, "Streaming per core").

Memory: the previous decode's chunks and their logits, and the last chunk's features: one window's worth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transcription.pipeline import FeatureHalves, LogitsFn


@dataclass(frozen=True)
class _KeptChunk:
    audio: np.ndarray  # [samples] float32
    logits: np.ndarray  # [frames, vocab] float32


@dataclass(frozen=True)
class _GrowingChunk:
    audio: np.ndarray  # [samples] float32
    features: np.ndarray  # [frames, dim] float32
    scale: float  # the audio's standard deviation when its oldest kept frame was encoded


# Kept frames are encoded again once the chunk's standard deviation has moved by more than this factor since they
# were: the export normalises each call's audio by it (and the base model's group norm follows the same energy).
# Measured with bench/stream_cache.py (docs/streaming.md): on the demo model's festival stream the finals agree
# with the uncached stream's 1.00 / 0.94 / 0.92 of words at 1.05 / 1.25 / never, with the same WER against the
# true words; on the base architecture, sentence-length windows, 1.25 keeps most of the saving (1.25x less CPU
# than no cache, vs 1.35x never re-encoding and 1.08x at 1.05).
REFRESH_SCALE_RATIO = 1.25
# Below this standard deviation the audio is digital silence: the ratio is taken against it instead of zero.
_SILENT_SCALE = 1e-12


@dataclass
class CacheCounts:
    """What the cache saved, for tests and benches: chunks whose logits were reused, conv frames kept/encoded."""

    reused_chunks: int = 0
    model_chunks: int = 0
    kept_frames: int = 0
    encoded_frames: int = 0


class StreamCache:
    """One stream's kept logits and conv features; `wrap` is the `WrapLogitsFn` a backend's `transcribe` takes."""

    def __init__(self, reuse_features: bool = True) -> None:
        self._reuse_features = reuse_features
        self._chunks: list[_KeptChunk] = []
        self._growing: _GrowingChunk | None = None
        self._halves: FeatureHalves | None = None
        self.counts = CacheCounts()

    def wrap(self, model_call: LogitsFn, halves: FeatureHalves | None) -> LogitsFn:
        """Return a model call for one decode of the window that reuses what the previous decodes computed."""
        if halves is not self._halves:  # another model (a new version swapped in): nothing kept applies
            self._chunks, self._growing, self._halves = [], None, halves

        async def logits(chunks: Sequence[np.ndarray]) -> list[np.ndarray]:
            return await self._logits(chunks, model_call, halves if self._reuse_features else None)

        return logits

    async def _logits(
        self, chunks: Sequence[np.ndarray], model_call: LogitsFn, halves: FeatureHalves | None
    ) -> list[np.ndarray]:
        results: list[np.ndarray | None] = [self._kept_logits(chunk) for chunk in chunks]
        self.counts.reused_chunks += sum(result is not None for result in results)
        missing = [index for index, result in enumerate(results) if result is None]
        growing = None
        if halves is not None and missing and missing[-1] == len(chunks) - 1:
            growing = missing[-1] if halves.geometry.num_frames(len(chunks[-1])) > 0 else None
        whole = [index for index in missing if index != growing]
        if whole:
            self.counts.model_chunks += len(whole)
            for index, logits in zip(whole, await model_call([chunks[index] for index in whole]), strict=True):
                results[index] = logits
        if growing is not None and halves is not None:
            results[growing] = await self._grow(chunks[growing], halves)
        done = [result for result in results if result is not None]
        self._chunks = [_KeptChunk(np.array(chunk), logits) for chunk, logits in zip(chunks, done, strict=True)]
        return done

    def _kept_logits(self, chunk: np.ndarray) -> np.ndarray | None:
        for kept in self._chunks:
            if len(kept.audio) == len(chunk) and np.array_equal(kept.audio, chunk):
                return kept.logits
        return None

    async def _grow(self, audio: np.ndarray, halves: FeatureHalves) -> np.ndarray:
        """Return the logits of `audio`, encoding only the conv frames the previous decode of it could not."""
        kept = self._growing
        scale = float(np.std(audio))
        first_frame = 0
        if (
            kept is not None
            and len(kept.audio) <= len(audio)
            and np.array_equal(kept.audio, audio[: len(kept.audio)])
            and max(scale, kept.scale) <= REFRESH_SCALE_RATIO * max(min(scale, kept.scale), _SILENT_SCALE)
        ):
            # Frames whose receptive field lies inside the audio encoded before: the same samples in.
            first_frame = min(halves.geometry.num_frames(len(kept.audio)), len(kept.features))
        new = await halves.conv_features(audio, first_frame)
        features = np.concatenate([kept.features[:first_frame], new]) if first_frame else new
        self.counts.kept_frames += first_frame
        self.counts.encoded_frames += len(new)
        self._growing = _GrowingChunk(np.array(audio), features, kept.scale if first_frame and kept else scale)
        return await halves.logits_from_features(features)
