"""The gateway's own error types (the engine's are in `engine.errors`); `service.api.errors` maps each to an HTTP
status in one table.

Bad audio is not here: `audio_input.AudioError` and its subclasses are mapped in the same table.
"""

from __future__ import annotations

from engine.errors import ServiceError


class EmptyUploadError(ServiceError):
    code = "empty_upload"


class UnauthorizedError(ServiceError):
    """API keys are configured and the request did not carry one of them as `Authorization: Bearer KEY`."""

    code = "invalid_api_key"


class ModelNotFoundError(ServiceError):
    """The request names a model this gateway does not serve."""

    code = "model_not_found"


class UnsupportedParameterError(ServiceError):
    """A request field we cannot honour, where ignoring it would give the caller a misleading result."""

    code = "unsupported_parameter"


class UnknownQueryParameterError(ServiceError):
    """The URL carries a query parameter the route does not take (a typo would otherwise be ignored)."""

    code = "unknown_query_parameter"


class UploadTooLargeError(ServiceError):
    """The request body passed the byte cap; raised while it streams in, never after reading it all."""

    code = "upload_too_large"


class ClientDisconnectedError(ServiceError):
    """The client closed the connection before its answer was ready; its work was cancelled, nobody reads this."""

    code = "client_closed_request"


class InvalidStreamMessageError(ServiceError):
    """A stream's config or control message is malformed, or audio came before the config."""

    code = "invalid_stream_message"


class TooManyStreamsError(ServiceError):
    """`ASR_STREAM_MAX_STREAMS` streams are already open."""

    code = "too_many_streams"


class StreamIdleError(ServiceError):
    """The client sent nothing for `ASR_STREAM_IDLE_TIMEOUT_S`."""

    code = "stream_idle_timeout"


class StreamDurationError(ServiceError):
    """The connection reached `ASR_STREAM_MAX_DURATION_S`; what was decoded so far has been sent."""

    code = "stream_too_long"


class StreamTooFastError(ServiceError):
    """The client sent audio faster than real time, beyond `ASR_STREAM_MAX_LEAD_S` ahead of the clock."""

    code = "audio_faster_than_real_time"


class SlowClientError(ServiceError):
    """The client does not read its events: `ASR_STREAM_MAX_PENDING_EVENTS` are waiting to be sent."""

    code = "client_not_reading"


class StreamBacklogError(ServiceError):
    """Decoding fell too far behind a stream's audio (the server is overloaded)."""

    code = "server_behind"


class ServerShuttingDownError(ServiceError):
    """The server is shutting down: a stream has been sent its finals so far, an unfinished upload is cut off."""

    code = "server_shutting_down"
