"""The embedded backend: the SavedModel runs in this process, fed chunk batches by the micro-batcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from model_export.client import ExportedModel, load_model_client
from model_export.contract import LOGITS_SIGNATURE
from model_export.errors import ExportError, ThreadSettingsError
from model_export.threads import ThreadPools, set_thread_pools
from service.admission import RequestAdmission
from service.api.schemas import EmbeddedRuntime, ModelCard
from service.backends.base import ChunkedBackendMixin, model_card
from service.backends.feature_halves import ThreadedFeatureHalves
from service.batching import MicroBatcher
from service.core.config import MODEL_SAMPLE_RATE_HZ, Settings
from service.core.errors import BackendUnavailableError, ModelLoadError
from service.decoding import ModelAssets, build_transcriber, read_model_assets
from transcription import ChunkedTranscriber
from transcription.pipeline import LogitsFn

logger = logging.getLogger(__name__)


def apply_thread_pools(settings: Settings) -> ThreadPools:
    """Return TensorFlow's pool sizes after applying the settings'; `ModelLoadError` if the runtime has started.

    Must run before the SavedModel loads: loading starts TensorFlow's runtime, which fixes the sizes.
    """
    try:
        pools = set_thread_pools(settings.intra_op_threads, settings.inter_op_threads)
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
    """Return the loaded model of `settings.model_path` (int8 TensorFlow Lite if the export has it, else the
    SavedModel); `ModelLoadError` if it cannot be loaded."""
    try:
        return load_model_client(settings.model_path, pools.intra_op_threads or pools.schedulable_cpus)
    except ExportError as error:
        raise ModelLoadError(str(error)) from error


class EmbeddedBackend(ChunkedBackendMixin):
    """Runs the SavedModel in-process; the chunks of concurrent requests are micro-batched into one call."""

    kind = "embedded"

    def __init__(self, settings: Settings, on_batch: Callable[[int], None] = lambda size: None) -> None:
        self._settings = settings
        self._on_batch = on_batch
        self._client: ExportedModel | None = None
        self._assets: ModelAssets | None = None
        self._batcher: MicroBatcher[np.ndarray] | None = None
        self._decode_pool: ThreadPoolExecutor | None = None
        self._transcriber: ChunkedTranscriber | None = None
        self._thread_pools: ThreadPools | None = None
        self._halves: ThreadedFeatureHalves | None = None
        self._admission = RequestAdmission(settings.queue_max_size, settings.queue_max_audio_h * 3600.0)

    async def start(self) -> None:
        self._thread_pools = apply_thread_pools(self._settings)  # before anything starts TensorFlow's runtime
        # Loading takes seconds; off the loop so the process still answers /healthz meanwhile.
        self._assets = await asyncio.to_thread(read_model_assets, self._settings.model_path)
        self._client = await asyncio.to_thread(load_client, self._settings, self._thread_pools)
        self._decode_pool = ThreadPoolExecutor(self._settings.decode_threads, thread_name_prefix="asr-decode")
        self._transcriber = await asyncio.to_thread(
            build_transcriber,
            self._settings,
            self._assets,
            self._logits,
            self._decode_pool,
            self._settings.batch_max_size,
        )
        # A warm-up call traces and allocates, so the first real request is not the slow one.
        await asyncio.to_thread(self._client.logits_batch, [np.zeros(MODEL_SAMPLE_RATE_HZ, dtype=np.float32)])
        self._batcher = MicroBatcher(
            self._client.logits_batch,
            max_batch_size=self._settings.batch_max_size,
            max_wait_ms=self._settings.batch_max_wait_ms,
            on_batch=self._on_batch,
        )
        self._batcher.start()
        self._halves = ThreadedFeatureHalves.of(self._client, self._assets.geometry)
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
        if self._decode_pool is not None:
            self._decode_pool.shutdown(wait=True, cancel_futures=True)

    async def _logits(self, chunks: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return the logits of `chunks` through a lane of their own (requests bring theirs: `_model_call`)."""
        async with self._model_call() as logits_fn:
            return await logits_fn(chunks)

    @contextlib.asynccontextmanager
    async def _model_call(self) -> AsyncIterator[LogitsFn]:
        if self._batcher is None:
            raise BackendUnavailableError("the model is still loading")
        async with self._batcher.lane() as lane:
            yield lane.logits

    def _feature_halves(self) -> ThreadedFeatureHalves | None:
        return self._halves

    def _ready_transcriber(self) -> ChunkedTranscriber:
        if self._transcriber is None or self._batcher is None:
            raise BackendUnavailableError("the model is still loading")
        return self._transcriber

    async def is_ready(self) -> bool:
        return self._batcher is not None

    async def model_info(self) -> ModelCard:
        if self._client is None or self._transcriber is None or self._thread_pools is None:
            raise BackendUnavailableError("the model is still loading")
        inputs, outputs = self._client.describe(LOGITS_SIGNATURE)
        runtime = EmbeddedRuntime(
            engine=self._client.runtime,
            intra_op_threads=self._thread_pools.intra_op_threads,
            inter_op_threads=self._thread_pools.inter_op_threads,
            schedulable_cpus=self._thread_pools.schedulable_cpus,
            batch_max_size=self._settings.batch_max_size,
            batch_max_wait_ms=self._settings.batch_max_wait_ms,
        )
        return model_card(
            self._settings.model_name, self._client.model_dir.version, self.kind, inputs, outputs,
            self._client.vocab, self._transcriber, runtime,
        )  # fmt: skip
