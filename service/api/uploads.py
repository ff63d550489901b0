"""The audio file of a `/v1/transcribe` request: its one multipart `file` part, or a raw `audio/*` body.

Both arrive through `UploadLimitMiddleware`, so both are cut off at the byte cap while they stream in, and
both are spooled the same way: in memory up to 1 MiB, then to a temporary file, never read whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from tempfile import SpooledTemporaryFile
from typing import Annotated, BinaryIO

from fastapi import File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers

from audio_input import DecodedAudio, load_audio
from service.config import MODEL_SAMPLE_RATE_HZ
from service.errors import EmptyUploadError

RAW_BODY_NAME = "the request body"  # the "file name" errors quote for a raw upload
_SPOOL_MAX_MEMORY_BYTES = 1024 * 1024  # what Starlette's multipart parser keeps in memory before spooling to disk


def _is_raw_audio(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("audio/") or media_type == "application/octet-stream"


def _invalid(message: str) -> RequestValidationError:
    """Returns the error FastAPI's own validation raises, so it is answered in the same 422 shape."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", "file"), "msg": message, "input": None}])


async def audio_upload(
    request: Request,
    file: Annotated[
        UploadFile | None,
        File(
            description="WAV, FLAC, OGG/Vorbis/Opus or MP3; any rate, any channels. Or skip the form: send the "
            "file as the raw request body with an `audio/*` (or application/octet-stream) content type."
        ),
    ] = None,
) -> AsyncIterator[UploadFile]:
    """Yields the request's one audio file (a FastAPI dependency); a 422 for none, or for several `file` parts.

    Starlette's form parsing keeps only the last of repeated fields for `File()`: refusing is kinder than
    transcribing one of several files and dropping the rest without a word.
    """
    if file is not None:
        parts = (await request.form()).getlist("file")  # the form FastAPI already parsed: nothing is read again
        if len(parts) > 1:
            raise _invalid(
                f"{len(parts)} `file` parts were sent; /v1/transcribe takes one (send several to /v1/transcribe/batch)"
            )
        yield file
        return
    content_type = request.headers.get("content-type", "")
    if not _is_raw_audio(content_type):
        raise _invalid(
            "Field required: send the audio as a multipart `file` part, or as the raw body with an "
            f"audio/* or application/octet-stream content type (this request's is {content_type or 'missing'!r})"
        )
    with SpooledTemporaryFile(max_size=_SPOOL_MAX_MEMORY_BYTES) as spool:
        upload = UploadFile(spool, filename=RAW_BODY_NAME, headers=Headers({"content-type": content_type}))
        async for chunk in request.stream():
            await upload.write(chunk)  # past 1 MiB the file is on disk and the write runs in the thread pool
        await upload.seek(0)
        yield upload


def decode_audio(file: BinaryIO, max_duration_s: float) -> DecodedAudio:
    """Return the upload in `file` as 16 kHz mono float32, or raise the error that says what is wrong with it.

    The decoding, validation and resampling are `audio_input.load_audio`, shared with training and the CLI so
    served and trained-on audio match; what is the gateway's own is the upload: a zero-byte body is the client's
    mistake (400 `empty_upload`), not a bad audio file.
    """
    file.seek(0, 2)
    if file.tell() == 0:
        raise EmptyUploadError("the uploaded file is empty (0 bytes)")
    file.seek(0)
    return load_audio(file, MODEL_SAMPLE_RATE_HZ, max_duration_s)
