"""The errors a transcription engine reports: each has a stable `code` that every door turns into its own shape.

`ServiceError` is the base of every error a client is told about (the gateway's own ones in
`service/errors.py` extend it); its doors map each class to an HTTP status, a WebSocket close code or a
Wyoming error event in one table (`service/api/errors.py`). Bad audio and unknown decoder names have their own
errors, raised by the audio decoder and by `transcription`.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a door reports to a client; `code` is the stable machine-readable name."""

    code = "internal_error"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param  # the request field at fault, when there is one (OpenAI's error shape reports it)


class QueueFullError(ServiceError):
    """Admission refused the request (too many requests or too much audio queued); retry after a moment."""

    code = "queue_full"


class BackendUnavailableError(ServiceError):
    """The logits source cannot be reached (TF Serving down, the model still loading)."""

    code = "backend_unavailable"


class BackendTimeoutError(ServiceError):
    code = "backend_timeout"


class BackendError(ServiceError):
    """The logits source answered with an error that is not the client's fault."""

    code = "backend_error"


class ModelLoadError(ServiceError):
    """The model or its assets could not be found or loaded."""

    code = "model_load_error"
