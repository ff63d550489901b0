"""Model backends: the SavedModel in-process (`embedded`) or TensorFlow Serving over gRPC (`tfserving`)."""

from __future__ import annotations

from collections.abc import Callable

from service.backends.base import Backend
from service.core.config import Settings


def build_backend(settings: Settings, on_batch: Callable[[int], None] = lambda size: None) -> Backend:
    """Return the backend the settings ask for: gRPC when `tfserving_address` is set, else embedded."""
    if settings.tfserving_address:
        from service.backends.tfserving import TFServingBackend

        return TFServingBackend(settings)
    from service.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(settings, on_batch=on_batch)


__all__ = ["Backend", "build_backend"]
