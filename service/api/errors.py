"""The one place where errors become HTTP responses, all shaped `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from service.core.errors import (
    AudioDecodeError,
    AudioTooLongError,
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    EmptyAudioError,
    EmptyUploadError,
    InvalidSamplesError,
    ModelLoadError,
    QueueFullError,
    ServiceError,
    UnsupportedMediaError,
    UploadTooLargeError,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[ServiceError], int] = {
    EmptyUploadError: 400,
    AudioTooLongError: 413,
    UploadTooLargeError: 413,
    UnsupportedMediaError: 415,
    AudioDecodeError: 422,
    EmptyAudioError: 422,
    InvalidSamplesError: 422,
    BackendError: 502,
    QueueFullError: 503,
    BackendUnavailableError: 503,
    ModelLoadError: 503,
    BackendTimeoutError: 504,
}

# Starlette's own errors (unknown route, wrong method) get names in the same vocabulary.
_CODE_BY_HTTP_STATUS = {404: "not_found", 405: "method_not_allowed"}


def error_response(
    status_code: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Return the gateway's one error shape."""
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status_code, headers=headers
    )


def service_error_response(error: ServiceError, retry_after_s: int) -> JSONResponse:
    """Return the response for a typed error: its status from `STATUS_BY_ERROR`, Retry-After on 503."""
    status_code = STATUS_BY_ERROR.get(type(error), 500)
    headers = {"Retry-After": str(retry_after_s)} if status_code == 503 else None
    if status_code >= 500:
        logger.warning("%s: %s", error.code, error.message)
    return error_response(status_code, error.code, error.message, headers)


def install_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    """Register the handlers that turn every failure into the one error shape."""

    async def service_error(request: Request, error: ServiceError) -> JSONResponse:
        return service_error_response(error, retry_after_s)

    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = _CODE_BY_HTTP_STATUS.get(error.status_code, f"http_{error.status_code}")
        return error_response(error.status_code, code, str(error.detail), getattr(error, "headers", None))

    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in error.errors()
        )
        return error_response(422, "invalid_request", problems)

    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal_error", "internal server error")

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
