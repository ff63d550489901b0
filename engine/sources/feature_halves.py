"""The embedded model's two halves (`conv_features`, `logits_from_features`) as awaitable calls, for a stream's
feature cache (service/streaming/feature_cache.py).

They run in a worker thread beside the micro-batcher rather than in its batches: each call is one stream's chunk
(its frames differ from the batch's), and the streams' decodes in flight are already bounded
(`ASR_STREAM_MAX_CONCURRENT_DECODES`).
"""

from __future__ import annotations

import asyncio

import numpy as np

from engine.model_client import ExportedModel
from transcription import FrameGeometry


class ThreadedFeatureHalves:
    """`transcription.pipeline.FeatureHalves` over a loaded export that has them."""

    def __init__(self, client: ExportedModel, geometry: FrameGeometry) -> None:
        self._client = client
        self.geometry = geometry

    @classmethod
    def of(cls, client: ExportedModel, geometry: FrameGeometry) -> ThreadedFeatureHalves | None:
        """Return the halves of `client`, or None where the export or its runtime has only the whole model."""
        return cls(client, geometry) if client.has_feature_halves else None

    async def conv_features(self, audio: np.ndarray, first_frame: int) -> np.ndarray:
        return await asyncio.to_thread(self._client.conv_features, audio, first_frame)

    async def logits_from_features(self, features: np.ndarray) -> np.ndarray:
        return await asyncio.to_thread(self._client.logits_from_features, features)
