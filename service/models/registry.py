"""The models one gateway serves, by name: each a managed engine of its own, one of them the default.

Every door (HTTP, the OpenAI route, the WebSocket, Wyoming) asks the registry for the model a request names;
a request that names none gets the default, and an unknown name is `ModelNotFoundError` (404 in the door's
own error shape). Each model has its own micro-batcher and decoders, so an English and a German model, or an
old and a new fine-tune, answer side by side without mixing batches. The registry's watch loop swaps in new
versions (`service.models.version_watch`) and unloads models left unused past `ASR_MODEL_TTL_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from engine import Engine, build_engine
from service.config import Settings
from service.errors import ModelNotFoundError
from service.models.managed import ManagedModel
from service.models.version_watch import VersionWatch

logger = logging.getLogger(__name__)


class ModelRegistry:
    """Name → managed model for every model the settings list (`Settings.model_names()`), the default first."""

    def __init__(self, models: list[ManagedModel], settings: Settings) -> None:
        self._models = {model.name: model for model in models}
        self.default_name = models[0].name
        self._settings = settings
        self._watch_task: asyncio.Task[None] | None = None
        self._version_watch = VersionWatch()

    @classmethod
    def from_settings(cls, settings: Settings, on_batch: Callable[[int], None] = lambda size: None) -> ModelRegistry:
        def build(model_settings: Settings) -> Engine:
            return build_engine(model_settings, on_batch)

        models = [ManagedModel(name, settings.for_model(name), build) for name in settings.model_names()]
        registry = cls(models, settings)
        for model in models:
            model.before_load = registry._make_room
        return registry

    @property
    def names(self) -> list[str]:
        return list(self._models)

    @property
    def default(self) -> ManagedModel:
        return self._models[self.default_name]

    def get(self, name: str | None) -> ManagedModel:
        """Returns the model `name` (None: the default); `ModelNotFoundError` if this gateway serves none so named."""
        try:
            return self._models[self.default_name if name is None else name]
        except KeyError:
            served = ", ".join(f"`{served}`" for served in self._models)
            raise ModelNotFoundError(
                f"The model `{name}` does not exist on this server; it serves {served} (GET /v1/models).",
                param="model",
            ) from None

    def items(self) -> list[tuple[str, ManagedModel]]:
        return list(self._models.items())

    async def start(self) -> None:
        """Loads every model (the first that fails stops startup, the others closed), then starts watching them."""
        try:
            for model in self._models.values():
                await model.start()
        except BaseException:
            await self.close()
            raise
        if self._settings.registry.model_poll_s > 0:
            self._watch_task = asyncio.get_running_loop().create_task(self._watch())

    async def close(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        await asyncio.gather(*(model.close() for model in self._models.values()), return_exceptions=True)

    @property
    def queue_depth(self) -> int:
        return sum(model.queue_depth for model in self._models.values())

    async def check_once(self) -> None:
        """Swaps in each model's new version, then unloads the models idle past the TTL."""
        for model in self._models.values():
            if model.settings.tfserving.address is None and model.loaded:
                version_dir = self._version_watch.new_version(model.settings.model.path, model.version)
                if version_dir is not None and not await model.swap_to(version_dir):
                    self._version_watch.refuse(version_dir)
        ttl_s = self._settings.registry.model_ttl_s
        if ttl_s > 0:
            for model in self._models.values():
                if model.loaded and model.idle_s > ttl_s:
                    await model.unload()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._settings.registry.model_poll_s)
            try:
                await self.check_once()
            except Exception:  # a watch that dies would silently stop all future swaps and unloads
                logger.exception("checking the models for new versions failed; trying again next time")

    async def _make_room(self, loading: ManagedModel) -> None:
        """Before `loading` loads: unloads the least recently used idle models past ASR_MAX_LOADED_MODELS."""
        cap = self._settings.registry.max_loaded_models
        if cap <= 0:
            return
        loaded = [model for model in self._models.values() if model.loaded]
        idle = sorted(
            (model for model in loaded if model.idle_s > 0 and not model.busy and model is not loading),
            key=lambda model: -model.idle_s,
        )
        while len(loaded) >= cap and idle:
            victim = idle.pop(0)
            await victim.unload()
            loaded.remove(victim)
