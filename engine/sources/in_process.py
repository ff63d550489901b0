"""The in-process source: the export (SavedModel, or its int8 TensorFlow Lite model) runs in this process, fed
chunk batches by the micro-batcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import numpy as np

from engine.batching import MicroBatcher
from engine.errors import BackendUnavailableError, ModelLoadError
from engine.model_client import ExportedModel, load_model_client
from engine.sources import SourceDescription
from engine.sources.feature_halves import ThreadedFeatureHalves
from engine.thread_pools import ThreadPools, set_thread_pools
from model_export.contract import LOGITS_SIGNATURE
from model_export.errors import ExportError, ThreadSettingsError
from transcription.chunking import FrameGeometry
from wav2vec2.config import SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from service.config import Settings
    from transcription.pipeline import LogitsFn

logger = logging.getLogger(__name__)


def apply_thread_pools(settings: Settings) -> ThreadPools:
    """Return TensorFlow's pool sizes after applying the settings'; `ModelLoadError` if the runtime has started.

    Must run before the SavedModel loads: loading starts TensorFlow's runtime, which fixes the sizes.
    """
    try:
        pools = set_thread_pools(settings.batching.intra_op_threads, settings.batching.inter_op_threads)
    except ThreadSettingsError as error:
        raise ModelLoadError(f"{error} (ASR_INTRA_OP_THREADS / ASR_INTER_OP_THREADS)") from error
    logger.info(
        "TensorFlow thread pools: %s",
        pools.describe(),
        extra={
            "intra_op_threads": pools.intra_op_threads,
            "inter_op_threads": pools.inter_op_threads,
            "schedulable_cpus": pools.schedulable_cpus,
        },
    )
    return pools


def load_client(settings: Settings, pools: ThreadPools) -> ExportedModel:
    """Return the loaded model of `settings.model.path` (int8 TensorFlow Lite if the export has it, else the
    SavedModel); `ModelLoadError` if it cannot be loaded."""
    try:
        return load_model_client(settings.model.path, pools.intra_op_threads or pools.schedulable_cpus)
    except ExportError as error:
        raise ModelLoadError(str(error)) from error


class InProcessSource:
    """Runs the export in-process; the chunks of concurrent requests are micro-batched into one call."""

    kind = "embedded"
    served_version = None  # the version loaded is the version that answers

    def __init__(self, settings: Settings, on_batch: Callable[[int], None] = lambda size: None) -> None:
        self._settings = settings
        self._on_batch = on_batch
        self._client: ExportedModel | None = None
        self._batcher: MicroBatcher[np.ndarray] | None = None
        self._thread_pools: ThreadPools | None = None
        self._halves: ThreadedFeatureHalves | None = None

    async def start(self) -> None:
        self._thread_pools = apply_thread_pools(self._settings)  # before anything starts TensorFlow's runtime
        # Loading takes seconds; off the loop so the process still answers /healthz meanwhile.
        self._client = await asyncio.to_thread(load_client, self._settings, self._thread_pools)
        # A warm-up call traces and allocates, so the first real request is not the slow one.
        await asyncio.to_thread(self._client.logits_batch, [np.zeros(SAMPLE_RATE_HZ, dtype=np.float32)])
        self._batcher = MicroBatcher(
            self._client.logits_batch,
            max_batch_size=self._settings.batching.batch_max_size,
            max_wait_ms=self._settings.batching.batch_max_wait_ms,
            on_batch=self._on_batch,
        )
        self._batcher.start()
        self._halves = ThreadedFeatureHalves.of(self._client, FrameGeometry.of(self._client.config, SAMPLE_RATE_HZ))
        logger.info(
            "embedded model loaded",
            extra={
                "model_dir": str(self._client.model_dir.path),
                "version": self._client.model_dir.version,
                "runtime": self._client.runtime,
            },
        )

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.stop()

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[LogitsFn]:
        if self._batcher is None:
            raise BackendUnavailableError("the model is still loading")
        async with self._batcher.lane() as lane:
            yield lane.logits

    async def is_ready(self) -> bool:
        return self._batcher is not None

    def feature_halves(self) -> ThreadedFeatureHalves | None:
        return self._halves

    async def describe(self) -> SourceDescription:
        if self._client is None or self._thread_pools is None:
            raise BackendUnavailableError("the model is still loading")
        inputs, outputs = self._client.describe(LOGITS_SIGNATURE)
        runtime = {
            "engine": self._client.runtime,
            "intra_op_threads": self._thread_pools.intra_op_threads,
            "inter_op_threads": self._thread_pools.inter_op_threads,
            "schedulable_cpus": self._thread_pools.schedulable_cpus,
            "batch_max_size": self._settings.batching.batch_max_size,
            "batch_max_wait_ms": self._settings.batching.batch_max_wait_ms,
        }
        return SourceDescription(
            self._settings.model.name, self._client.model_dir.version, inputs, outputs, runtime=runtime
        )
