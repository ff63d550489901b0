"""Build the gateway's FastAPI app: `create_app(settings)`; the model is loaded in its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api.errors import install_error_handlers
from service.api.routes import health, metrics, models, stream, transcribe
from service.backends import build_backend
from service.core.config import Settings, get_settings
from service.metrics import Metrics
from service.request_metrics import RequestMetricsMiddleware
from service.streaming.limits import StreamSlots
from service.upload_limit import UploadLimitMiddleware

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the gateway app for `settings` (default: from `ASR_*` environment variables)."""
    settings = settings or get_settings()
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend = build_backend(settings, on_batch=app_metrics.batch_size.observe)
        await backend.start()  # a missing or broken model stops startup here, with ModelLoadError
        app.state.backend = backend
        app_metrics.track_queue_depth(lambda: backend.queue_depth)
        try:
            yield
        finally:
            await backend.close()

    app = FastAPI(
        title="wav2vec 2.0 speech recognition",
        summary="Upload audio, get a transcript; the model runs in-process or in TensorFlow Serving.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = app_metrics
    app.state.stream_slots = StreamSlots(settings.stream_max_streams)
    install_error_handlers(app, retry_after_s=settings.retry_after_s)
    for module in (transcribe, stream, models, health, metrics):
        app.include_router(module.router)
    # Added last = outermost: the metrics see every response, the 413s of the upload cap included.
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=app_metrics)
    return app
