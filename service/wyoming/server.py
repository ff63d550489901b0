"""`asr wyoming`: a Wyoming server (TCP, Unix socket or stdio) over the embedded model or TF Serving."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from service.config import Settings
from service.models.registry import ModelRegistry
from service.streaming.limits import StreamSlots, window_policy
from service.wyoming.handler import WyomingAsrHandler, describe_service
from service.wyoming.listener import ListenAddress, listen

logger = logging.getLogger(__name__)


async def serve_wyoming(settings: Settings, uri: str, version: str = "0.1.0") -> None:
    """Load the models, then answer Wyoming clients on `uri` (e.g. `tcp://127.0.0.1:10300`) until cancelled."""
    address = ListenAddress.parse(uri)  # a bad URI fails before the model loads
    models = ModelRegistry.from_settings(settings)
    await models.start()
    try:
        served = [(name, settings.for_model(name).model.language_code) for name in models.names]
        handler = partial(
            WyomingAsrHandler,
            info=describe_service(served, version),
            models=models,
            policy=window_policy(settings),
            settings=settings,
            # Shared by every connection: the connection cap, and the decodes in flight together, as on the gateway.
            slots=StreamSlots(settings.stream.max_streams, settings.stream.max_concurrent_decodes),
        )

        async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, is_stdio: bool) -> None:
            idle_timeout_s = None if is_stdio else settings.stream.idle_timeout_s
            await handler(reader, writer, idle_timeout_s=idle_timeout_s).run()

        logger.info("wyoming server ready", extra={"uri": uri, "backend": models.default.kind, "models": models.names})
        await listen(address, serve_connection)
    finally:
        await models.close()
