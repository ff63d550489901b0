"""Home Assistant's Wyoming protocol in front of the same model and streaming decoder as the gateway."""

from service.wyoming.handler import WyomingAsrHandler, describe_service
from service.wyoming.server import serve_wyoming

__all__ = ["WyomingAsrHandler", "describe_service", "serve_wyoming"]
