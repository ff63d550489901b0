"""The HTTP gateway: FastAPI in front of an in-process SavedModel or TensorFlow Serving over gRPC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.config import Settings, get_settings

if TYPE_CHECKING:
    from service.main import create_app

__all__ = ["Settings", "create_app", "get_settings"]


def __getattr__(name: str) -> Any:
    """Imports `create_app` (and TensorFlow with it) on first use, so `service.config` loads in milliseconds."""
    # `asr serve` reads its settings and checks its port before TensorFlow starts (PEP 562 lazy attribute).
    if name == "create_app":
        from service.main import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
