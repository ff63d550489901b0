"""The one place where errors become HTTP responses.

Two shapes, by route family: our own routes answer `{"error": {"code", "message"}}`; the OpenAI-compatible
ones (`/v1/audio/...` and `/v1/models`, which both families call) answer OpenAI's
`{"error": {"message", "type", "param", "code"}}` (docs/service.md). The OpenAI shape keeps `code` and
`message`, so a client of ours reading those two fields reads either shape. A WebSocket stream's ending becomes a
close code and an `error` event (`CLOSE_CODE_BY_ERROR`, docs/streaming.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from audio_input import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    UnsupportedAudioFormatError,
)
from engine.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    ModelLoadError,
    QueueFullError,
    ServiceError,
)
from service.errors import (
    ClientDisconnectedError,
    EmptyUploadError,
    InvalidStreamMessageError,
    ModelNotFoundError,
    ServerShuttingDownError,
    SlowClientError,
    StreamBacklogError,
    StreamDurationError,
    StreamIdleError,
    StreamTooFastError,
    TooManyStreamsError,
    UnauthorizedError,
    UnknownQueryParameterError,
    UnsupportedParameterError,
    UploadTooLargeError,
)
from transcription.errors import TranscriptionError, UnknownDecoderError

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Looked up along the error's class hierarchy (audio_input's TruncatedAudioError is an AudioDecodeError);
# the AudioError row catches any audio error added to audio_input later.
STATUS_BY_ERROR: dict[type[ServiceError | AudioError | TranscriptionError], int] = {
    EmptyUploadError: 400,
    UnsupportedParameterError: 400,
    UnauthorizedError: 401,
    ModelNotFoundError: 404,
    UnknownQueryParameterError: 422,
    AudioTooLongError: 413,
    UploadTooLargeError: 413,
    UnsupportedAudioFormatError: 415,
    AudioDecodeError: 422,
    EmptyAudioError: 422,
    NonFiniteAudioError: 422,
    AudioError: 422,
    TranscriptionError: 422,
    BackendError: 502,
    ClientDisconnectedError: 499,  # nginx's "client closed request": for the logs and metrics, no client reads it
    QueueFullError: 503,
    BackendUnavailableError: 503,
    ModelLoadError: 503,
    ServerShuttingDownError: 503,
    BackendTimeoutError: 504,
}

# A stream's end, as a WebSocket close code (RFC 6455 7.4: 1000-1015 standard, 4000-4999 ours, mirroring HTTP).
CLOSE_CODE_BY_ERROR: dict[type[ServiceError | AudioError | TranscriptionError], int] = {
    InvalidStreamMessageError: 4400,
    AudioError: 4400,
    TranscriptionError: 4400,  # e.g. `decoder: lm` where no language model is configured
    UnauthorizedError: 4401,
    ModelNotFoundError: 4404,
    StreamIdleError: 4408,
    StreamDurationError: 4413,
    StreamTooFastError: 4429,
    ServerShuttingDownError: 1001,  # going away, after the finals of the audio received so far
    SlowClientError: 1008,  # policy violation
    TooManyStreamsError: 1013,  # try again later
    StreamBacklogError: 1013,
    QueueFullError: 1013,
    BackendUnavailableError: 1013,
    ModelLoadError: 1013,
    BackendError: 1011,  # internal error
    BackendTimeoutError: 1011,
}
NORMAL_CLOSE = 1000

# The libraries' errors carry no gateway code; these are the names clients know (docs/service.md).
CODE_BY_LIBRARY_ERROR: dict[type[AudioError | TranscriptionError], str] = {
    AudioTooLongError: "audio_too_long",
    UnsupportedAudioFormatError: "unsupported_media_type",
    AudioDecodeError: "audio_decode_error",
    EmptyAudioError: "empty_audio",
    NonFiniteAudioError: "invalid_samples",
    AudioError: "audio_decode_error",
    UnknownDecoderError: "unknown_decoder",
    TranscriptionError: "transcription_error",
}

# Starlette's own errors (unknown route, wrong method) get names in the same vocabulary.
_CODE_BY_HTTP_STATUS = {404: "not_found", 405: "method_not_allowed"}


# The routes OpenAI's SDK calls; their errors take OpenAI's shape.
OPENAI_ROUTE_PREFIXES = ("/v1/audio/", "/v1/models")


def is_openai_route(path: str) -> bool:
    """Return whether `path` belongs to the OpenAI-compatible family (its errors in OpenAI's shape)."""
    return path.startswith(OPENAI_ROUTE_PREFIXES)


def error_response(
    status_code: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    path: str = "",
    param: str | None = None,
) -> JSONResponse:
    """Return the error shape of the route family `path` belongs to."""
    if is_openai_route(path):
        error_type = "server_error" if status_code >= 500 else "invalid_request_error"
        body = {"message": message, "type": error_type, "param": param, "code": code}
    else:
        body = {"code": code, "message": message}
    return JSONResponse({"error": body}, status_code=status_code, headers=headers)


def service_error_response(
    error: ServiceError | AudioError | TranscriptionError, retry_after_s: int, path: str = ""
) -> JSONResponse:
    """Return the response for a typed error: its status from `STATUS_BY_ERROR`, Retry-After on 503."""
    status_code = _by_class(STATUS_BY_ERROR, error, default=500)
    param = None
    if isinstance(error, ServiceError):
        code, message, param = error.code, error.message, error.param
    else:
        code, message = _by_class(CODE_BY_LIBRARY_ERROR, error), str(error)
        param = "file" if isinstance(error, AudioError) else None
    headers = None
    if status_code == 503:
        headers = {"Retry-After": str(retry_after_s)}
    elif status_code == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    if status_code >= 500:
        logger.warning("%s: %s", code, message)
    return error_response(status_code, code, message, headers, path=path, param=param)


def websocket_close(error: Exception) -> tuple[int, dict[str, dict[str, str]]]:
    """Return `(close code, error event)` for an error that ends a stream; unexpected errors are 1011."""
    if isinstance(error, ServiceError | AudioError | TranscriptionError):
        code = _by_class(CLOSE_CODE_BY_ERROR, error, default=1011)
        name = error.code if isinstance(error, ServiceError) else _by_class(CODE_BY_LIBRARY_ERROR, error)
        message = error.message if isinstance(error, ServiceError) else str(error)
    else:
        logger.error("stream failed: %r", error, exc_info=error)
        code, name, message = 1011, "internal_error", "internal server error"
    if code in (1011, 1013):
        logger.warning("stream closed %d %s: %s", code, name, message)
    return code, {"type": "error", "error": {"code": name, "message": message}}


def validation_message(problems: Sequence[Mapping[str, Any]]) -> str:
    """Return pydantic's errors as one line a user can act on: `field: what is wrong` for each, `;`-separated.

    pydantic's `str(error)` starts "1 validation error for StreamConfig" and puts the field on another line; its
    `msg` for an enum or `Literal` already lists the allowed values ("Input should be 'pcm_s16le' or 'f32le'").
    """
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'message'}: {problem['msg']}" for problem in problems
    )


def _by_class(table: Mapping[type, T], error: Exception, default: T | None = None) -> T:
    """Return the entry for the error's class or its nearest listed base class (every AudioError has one)."""
    return next((table[cls] for cls in type(error).__mro__ if cls in table), default)


def install_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    """Register the handlers that turn every failure into the one error shape."""

    async def service_error(request: Request, error: ServiceError | AudioError | TranscriptionError) -> JSONResponse:
        return service_error_response(error, retry_after_s, path=request.url.path)

    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = _CODE_BY_HTTP_STATUS.get(error.status_code, f"http_{error.status_code}")
        return error_response(
            error.status_code, code, str(error.detail), getattr(error, "headers", None), path=request.url.path
        )

    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        message = validation_message(problems)
        # loc is ("body" | "query", field, ...): the field is what OpenAI's `param` names.
        param = next((str(problem["loc"][1]) for problem in problems if len(problem["loc"]) > 1), None)
        return error_response(422, "invalid_request", message, path=request.url.path, param=param)

    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal_error", "internal server error", path=request.url.path)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(AudioError, service_error)
    app.add_exception_handler(TranscriptionError, service_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
