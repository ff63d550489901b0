"""The HTTP gateway: FastAPI in front of an in-process SavedModel or TensorFlow Serving over gRPC."""

from service.core.config import Settings, get_settings
from service.main import create_app

__all__ = ["Settings", "create_app", "get_settings"]
