"""`POST /v1/transcribe`: an uploaded audio file in, its transcript out."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from service.api.deps import AudioUploadDep, BackendDep, MetricsDep, SettingsDep
from service.api.schemas import BatchTranscription, ErrorBody, Transcription
from service.audio import DecodedAudio, decode_audio
from service.core.errors import EmptyUploadError
from wav2vec2.errors import AudioError

router = APIRouter(prefix="/v1", tags=["transcription"])

ResponseFormat = Annotated[
    Literal["json", "text"], Query(description="`json` (default) or `text` for the bare transcript.")
]
DecoderChoice = Annotated[
    Literal["greedy", "lm"] | None,
    Query(description="`greedy` or `lm` (lexicon beam search with the language model); default: the server's."),
]

_ERRORS = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Empty upload.",
        413: "Upload larger than ASR_MAX_UPLOAD_BYTES, or audio longer than ASR_MAX_DURATION_H.",
        415: "Not audio in a supported format.",
        422: "Corrupt, truncated, empty or NaN/inf audio; a decoder that is not configured; or a malformed request.",
        502: "The model backend answered with an error.",
        503: "Queue full or backend unavailable (with Retry-After).",
        504: "The model backend timed out.",
    }.items()
}


async def _decode(upload: UploadFile, settings: SettingsDep) -> DecodedAudio:
    # Decoding and resampling are blocking C calls: in the thread pool, never on the event loop.
    return await run_in_threadpool(decode_audio, upload.file, settings.max_duration_s)


async def _decode_batch(uploads: list[UploadFile], settings: SettingsDep) -> list[DecodedAudio]:
    """Returns every upload decoded; the error of the first bad one (in upload order) names that file."""
    decoded = await asyncio.gather(*(_decode(upload, settings) for upload in uploads), return_exceptions=True)
    for number, (upload, result) in enumerate(zip(uploads, decoded, strict=True), start=1):
        if isinstance(result, AudioError | EmptyUploadError):
            # Same type, so the same status and code; the message says which part it was.
            raise type(result)(f"file {number} ({upload.filename or 'unnamed'}): {result}") from result
        if isinstance(result, BaseException):
            raise result
    return decoded


async def _transcribe_upload(
    upload: UploadFile, settings: SettingsDep, backend: BackendDep, metrics: MetricsDep, decoder: str | None = None
) -> Transcription:
    started = time.perf_counter()
    return await _transcribe_audio(await _decode(upload, settings), started, settings, backend, metrics, decoder)


async def _transcribe_audio(
    audio: DecodedAudio,
    started: float,
    settings: SettingsDep,
    backend: BackendDep,
    metrics: MetricsDep,
    decoder: str | None = None,
) -> Transcription:
    model_started = time.perf_counter()
    transcript = await backend.transcribe(audio.samples, decoder)
    finished = time.perf_counter()
    metrics.model_latency.observe(finished - model_started)
    metrics.audio_seconds.inc(audio.duration_s)
    return Transcription(
        text=transcript.text,
        duration_s=round(audio.duration_s, 4),
        model=settings.model_name,
        processing_ms=round((finished - started) * 1000.0, 2),
        source_sample_rate_hz=audio.source_sample_rate_hz,
        source_channels=audio.source_channels,
        decoder=transcript.decoder,
    )


@router.post(
    "/transcribe",
    response_model=Transcription,
    responses={200: {"content": {"text/plain": {}}}, **_ERRORS},
    summary="Transcribe one audio file",
)
async def transcribe(
    upload: AudioUploadDep,
    settings: SettingsDep,
    backend: BackendDep,
    metrics: MetricsDep,
    response_format: ResponseFormat = "json",
    decoder: DecoderChoice = None,
):
    """Decode, downmix and resample the upload to 16 kHz mono, and return its transcript.

    The audio is one multipart `file` part, or the whole request body with an `audio/*` content type
    (`curl --data-binary @a.wav -H 'content-type: audio/wav'`).
    """
    result = await _transcribe_upload(upload, settings, backend, metrics, decoder)
    if response_format == "text":
        return PlainTextResponse(result.text)
    return result


@router.post(
    "/transcribe/batch",
    response_model=BatchTranscription,
    responses={200: {"content": {"text/plain": {}}}, **_ERRORS},
    summary="Transcribe several audio files in one request",
)
async def transcribe_batch(
    file: Annotated[list[UploadFile], File(description="Repeat the `file` field once per audio file.")],
    settings: SettingsDep,
    backend: BackendDep,
    metrics: MetricsDep,
    response_format: ResponseFormat = "json",
    decoder: DecoderChoice = None,
):
    """Transcribe every `file` part; they are submitted together, so they share micro-batches.

    Every file is decoded before any is transcribed: a bad one fails the request at once, its error naming it.
    """
    started = time.perf_counter()
    decoded = await _decode_batch(file, settings)
    results = await asyncio.gather(
        *(_transcribe_audio(audio, started, settings, backend, metrics, decoder) for audio in decoded)
    )
    if response_format == "text":
        return PlainTextResponse("\n".join(result.text for result in results))
    return BatchTranscription(results=list(results))
