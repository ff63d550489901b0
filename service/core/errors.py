"""The gateway's own error types; `service.api.errors` maps each to an HTTP status in one table.

Bad audio is not here: `wav2vec2.errors.AudioError` and its subclasses are mapped in the same table.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error the gateway reports to a client; `code` is the stable machine-readable name."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyUploadError(ServiceError):
    code = "empty_upload"


class UploadTooLargeError(ServiceError):
    """The request body passed the byte cap; raised while it streams in, never after reading it all."""

    code = "upload_too_large"


class QueueFullError(ServiceError):
    """The micro-batcher's queue is full; the client should retry after a moment."""

    code = "queue_full"


class BackendUnavailableError(ServiceError):
    """The model backend cannot be reached (TF Serving down, model not loaded)."""

    code = "backend_unavailable"


class BackendTimeoutError(ServiceError):
    code = "backend_timeout"


class BackendError(ServiceError):
    """The backend answered with an error that is not the client's fault."""

    code = "backend_error"


class ModelLoadError(ServiceError):
    """The SavedModel could not be found or loaded at startup."""

    code = "model_load_error"
