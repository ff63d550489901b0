"""`asr wyoming`: a Wyoming server (TCP, Unix socket or stdio) over the embedded model or TF Serving."""

from __future__ import annotations

import logging
from functools import partial

from wyoming.server import AsyncServer

from service.backends import build_backend
from service.core.config import Settings
from service.streaming.limits import StreamSlots, window_policy
from service.wyoming.handler import WyomingAsrHandler, describe_service

logger = logging.getLogger(__name__)


async def serve_wyoming(settings: Settings, uri: str, version: str = "0.1.0") -> None:
    """Load the backend, then answer Wyoming clients on `uri` (e.g. `tcp://0.0.0.0:10300`) until cancelled."""
    backend = build_backend(settings)
    await backend.start()
    try:
        info = describe_service(settings.model_name, settings.language_code, version)
        server = AsyncServer.from_uri(uri)
        logger.info("wyoming server ready", extra={"uri": uri, "backend": backend.kind})
        await server.run(
            partial(
                WyomingAsrHandler,
                info=info,
                backend=backend,
                policy=window_policy(settings),
                language=settings.language_code,
                # Shared by every connection: their decodes in flight together stay bounded, as on the gateway.
                slots=StreamSlots(settings.stream_max_streams, settings.stream_max_concurrent_decodes),
                max_backlog_s=settings.stream_max_backlog_s,
            )
        )
    finally:
        await backend.close()
