"""The models one gateway serves, by name: each a backend of its own, one of them the default.

Every door (HTTP, the OpenAI route, the WebSocket, Wyoming) asks the registry for the model a request names;
a request that names none gets the default, and an unknown name is `ModelNotFoundError` (404 in the door's
own error shape). Each model has its own micro-batcher and decoders, so an English and a German model, or an
old and a new fine-tune, answer side by side without mixing batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from service.backends import Backend, build_backend
from service.core.config import Settings
from service.core.errors import ModelNotFoundError


@dataclass(frozen=True)
class ServedModel:
    """One model a request chose: its name, the backend that runs it and the settings it runs with."""

    name: str
    backend: Backend
    settings: Settings


class ModelRegistry:
    """Name → backend for every model the settings list (`Settings.model_names()`), the default first."""

    def __init__(self, models: list[ServedModel]) -> None:
        self._models = {model.name: model for model in models}
        self._backends = {model.name: model.backend for model in models}
        self.default_name = models[0].name

    @classmethod
    def from_settings(cls, settings: Settings, on_batch: Callable[[int], None] = lambda size: None) -> ModelRegistry:
        models = []
        for name in settings.model_names():
            model_settings = settings.for_model(name)
            models.append(ServedModel(name, build_backend(model_settings, on_batch), model_settings))
        return cls(models)

    @property
    def names(self) -> list[str]:
        return list(self._backends)

    @property
    def default(self) -> Backend:
        return self._backends[self.default_name]

    def get(self, name: str | None) -> Backend:
        """Returns the backend of the model `name` (None: the default); `ModelNotFoundError` if none has it."""
        return self.choose(name).backend

    def choose(self, name: str | None) -> ServedModel:
        """Returns the model `name` (None: the default); `ModelNotFoundError` if this gateway serves none so named."""
        try:
            return self._models[self.default_name if name is None else name]
        except KeyError:
            served = ", ".join(f"`{served}`" for served in self._backends)
            raise ModelNotFoundError(
                f"The model `{name}` does not exist on this server; it serves {served} (GET /v1/models).",
                param="model",
            ) from None

    def items(self) -> list[tuple[str, Backend]]:
        return list(self._backends.items())

    async def start(self) -> None:
        """Loads or connects every model; the first that fails stops startup (with the others closed)."""
        try:
            for backend in self._backends.values():
                await backend.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await asyncio.gather(*(backend.close() for backend in self._backends.values()), return_exceptions=True)

    async def is_ready(self) -> bool:
        """Whether every model would answer now."""
        return all(await asyncio.gather(*(backend.is_ready() for backend in self._backends.values())))

    @property
    def queue_depth(self) -> int:
        return sum(backend.queue_depth for backend in self._backends.values())
