"""One served model's life: loaded, swapped to a new version without dropping a request, unloaded when idle.

Every request runs inside `use()`, which counts it against the loaded engine it started on. A new version is
loaded and warmed beside the old one, then swapped in by one assignment: requests that started before finish
on the old engine, which is closed when its last one ends; a version that fails to load is refused and the
old one keeps serving. A model unused for `ttl_s` is closed (its memory returned) and loaded again by the next
request, which waits for the load instead of getting an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import Engine, EngineDescription
from engine.errors import BackendUnavailableError
from engine.memory import release_free_memory
from service.config import Settings
from transcription import Transcript, Word
from transcription.pipeline import ProgressFn, WrapLogitsFn

logger = logging.getLogger(__name__)


class _Closed:
    """Stands in for a closed engine, so a retired `_Loaded` holds no reference to the model it ran."""

    kind = "closed"
    queue_depth = 0


@dataclass(eq=False)
class _Loaded:
    """A started engine, the version it serves, and the requests running on it."""

    engine: Engine | _Closed
    version: int | None
    in_flight: int = 0
    retired: bool = False
    closed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def close_when_idle(self) -> None:
        if self.in_flight == 0 and not self.closed.is_set():
            self.closed.set()
            await self.engine.close()
            # The loaded SavedModel is held in reference cycles (its functions, the transcriber's callbacks):
            # collected now, and the pages freed handed back, so an unloaded model's memory really goes.
            self.engine = _Closed()
            gc.collect()
            release_free_memory()


class ManagedModel:
    """A model by name: its engine, which the doors call through it, with its loads, swaps and unloads."""

    def __init__(self, name: str, settings: Settings, build: Callable[[Settings], Engine]) -> None:
        self.name = name
        self.settings = settings
        self._build = build
        self._loaded: _Loaded | None = None
        self._description: EngineDescription | None = None
        self._lock = asyncio.Lock()  # one load, swap or unload at a time
        self._last_used_s = time.monotonic()
        self._retiring: set[asyncio.Task[None]] = set()
        # Set by the registry: makes room (unloads others) before this model loads, under a cap on loaded models.
        self.before_load: Callable[[ManagedModel], Awaitable[None]] | None = None

    @property
    def kind(self) -> str:
        return self._loaded.engine.kind if self._loaded else "unloaded"

    @property
    def version(self) -> int | None:
        """The version new requests get (None while unloaded)."""
        return self._loaded.version if self._loaded else None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    @property
    def busy(self) -> bool:
        """Whether a load, swap or unload is under way."""
        return self._lock.locked()

    @property
    def idle_s(self) -> float:
        """Seconds since a request last used the model (0 while one runs)."""
        busy = self._loaded is not None and self._loaded.in_flight > 0
        return 0.0 if busy else time.monotonic() - self._last_used_s

    async def start(self) -> None:
        async with self._lock:
            await self._ensure_loaded_locked()

    async def _ensure_loaded_locked(self) -> _Loaded:
        if self._loaded is None:
            if self.before_load is not None:
                await self.before_load(self)
            self._loaded = await self._load(self.settings)
            self._last_used_s = time.monotonic()
        return self._loaded

    async def _load(self, settings: Settings) -> _Loaded:
        engine = self._build(settings)
        try:
            await engine.start()
        except BaseException:
            await engine.close()
            raise
        with contextlib.suppress(BackendUnavailableError):  # TF Serving may come up after the gateway
            self._description = await engine.describe()
        return _Loaded(engine, engine.version)

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[_Loaded]:
        """Holds the current engine for one request: loads it first if it was unloaded."""
        loaded = self._loaded
        if loaded is None:
            async with self._lock:
                loaded = await self._ensure_loaded_locked()
        loaded.in_flight += 1
        try:
            yield loaded
        finally:
            loaded.in_flight -= 1
            self._last_used_s = time.monotonic()
            if loaded.retired:
                self._retire(loaded)

    async def transcribe(
        self,
        samples: np.ndarray,
        decoder: str | None = None,
        on_progress: ProgressFn | None = None,
        wrap_logits: WrapLogitsFn | None = None,
    ) -> Transcript:
        async with self.use() as loaded:
            return await loaded.engine.transcribe(samples, decoder, on_progress, wrap_logits)

    async def transcribe_chunks(self, samples: np.ndarray, decoder: str | None = None) -> AsyncIterator[list[Word]]:
        async with self.use() as loaded:
            async for words in loaded.engine.transcribe_chunks(samples, decoder):
                yield words

    def check_admission(self, samples: np.ndarray) -> None:
        """Raises `QueueFullError` if the engine would refuse `samples` now (an unloaded model admits it)."""
        if self._loaded is not None:
            self._loaded.engine.check_admission(samples)

    async def swap_to(self, version_dir: Path) -> bool:
        """Loads and warms `version_dir` beside the current version, then serves it; False (and the old version
        keeps serving) if it cannot be loaded."""
        async with self._lock:
            try:
                new = await self._load(
                    self.settings.model_copy(
                        update={"model": self.settings.model.model_copy(update={"path": version_dir})}
                    )
                )
            except Exception as error:  # noqa: BLE001 - any failure to load means: keep the old version
                logger.error(
                    "model %r: version %s not loaded, still serving version %s: %s",
                    self.name, version_dir.name, self.version, error,
                    extra={"model": self.name, "refused_version_dir": str(version_dir)},
                )  # fmt: skip
                return False
            old, self._loaded = self._loaded, new
            logger.info(
                "model %r: now serving version %s (was %s)", self.name, new.version, old.version if old else None,
                extra={"model": self.name, "version": new.version},
            )  # fmt: skip
            if old is not None:
                old.retired = True
                self._retire(old)
            return True

    async def unload(self) -> None:
        """Closes the engine once its requests end; the next request loads it again."""
        async with self._lock:
            old, self._loaded = self._loaded, None
            if old is not None:
                old.retired = True
                self._retire(old)
        logger.info("model %r unloaded after %.0f s unused", self.name, self.idle_s, extra={"model": self.name})

    def _retire(self, loaded: _Loaded) -> None:
        if loaded.in_flight == 0 and not loaded.closed.is_set():
            task = asyncio.get_running_loop().create_task(loaded.close_when_idle())
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        async with self._lock:
            loaded, self._loaded = self._loaded, None
        if loaded is not None:
            loaded.closed.set()
            await loaded.engine.close()
        await asyncio.gather(*self._retiring, return_exceptions=True)

    async def is_ready(self) -> bool:
        """Ready when loaded and ready, or unloaded after serving (the next request loads it)."""
        if self._loaded is None:
            return self._description is not None
        return await self._loaded.engine.is_ready()

    async def describe(self) -> EngineDescription:
        """What the model serves (as last seen while it was loaded); `BackendUnavailableError` before it ever was."""
        if self._loaded is not None:
            self._description = await self._loaded.engine.describe()
        if self._description is None:
            raise BackendUnavailableError(f"the model {self.name!r} is still loading")
        return self._description

    @property
    def queue_depth(self) -> int:
        return self._loaded.engine.queue_depth if self._loaded else 0
