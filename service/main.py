"""Build the gateway's FastAPI app: `create_app(settings)`; the models are loaded in its lifespan."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from service.api.auth import ApiKeys, require_api_key
from service.api.errors import install_error_handlers
from service.api.middleware.key_gate import KeyGateMiddleware
from service.api.middleware.request_metrics import RequestMetricsMiddleware
from service.api.middleware.upload_limit import UploadLimitMiddleware
from service.api.query_params import reject_unknown_query_params
from service.api.routes import health, metrics, models, openai_audio, stream, transcribe
from service.config import Settings, get_settings
from service.draining import Draining
from service.metrics import Metrics
from service.models.registry import ModelRegistry
from service.streaming.limits import StreamSlots

logger = logging.getLogger(__name__)

# The page at `/` (plain HTML, JS and CSS, shipped as package data; no build step).
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the gateway app for `settings` (default: from `ASR_*` environment variables)."""
    settings = settings or get_settings()
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        models = ModelRegistry.from_settings(settings, on_batch=app_metrics.batch_size.observe)
        await models.start()  # a missing or broken model stops startup here, with ModelLoadError
        app.state.models = models
        app.state.model_loaded_at = int(time.time())  # OpenAI's `created` of the models in /v1/models
        app_metrics.track_queue_depth(lambda: models.queue_depth)
        try:
            yield
        finally:
            await models.close()

    # FastAPIOffline: /docs and /redoc load Swagger UI and ReDoc from the installed package, not from a CDN.
    app = FastAPIOffline(
        title="wav2vec 2.0 speech recognition",
        summary="Upload audio, get a transcript; the model runs in-process or in TensorFlow Serving.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query_params)],
    )
    app.state.settings = settings
    app.state.metrics = app_metrics
    app.state.api_keys = ApiKeys.from_settings(settings)
    app.state.draining = Draining()  # begun by `DrainingServer` (asr serve) on SIGTERM
    app.state.stream_slots = StreamSlots(settings.stream.max_streams, settings.stream.max_concurrent_decodes)
    install_error_handlers(app, retry_after_s=settings.http.retry_after_s)
    # Probes (/healthz, /readyz) and /metrics stay open; every transcription and model route needs the key.
    protected_routers = [module.router for module in (transcribe, openai_audio, models)]
    for router in protected_routers:
        app.include_router(router, dependencies=[Depends(require_api_key)])
    # The stream checks its key itself (config `api_key` or Bearer), so a refusal is a close code with a reason.
    for module in (stream, health, metrics):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added last = outermost: the metrics see every response, the 413s of the upload cap included. The key gate is
    # outside the cap, so a keyless upload gets its 401 whatever its length.
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.http.max_upload_bytes, draining=app.state.draining)
    app.add_middleware(
        KeyGateMiddleware, protected_routes=[route for router in protected_routers for route in router.routes]
    )
    app.add_middleware(RequestMetricsMiddleware, metrics=app_metrics)
    if settings.http.cors_allow_origins:
        # Outermost, so that even a 413 or 401 carries the CORS headers a browser needs to read it.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.http.cors_allow_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    return app
