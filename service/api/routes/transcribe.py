"""`POST /v1/transcribe`: an uploaded audio file in, its timed transcript out, in the format asked for."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from audio_input import AudioError, DecodedAudio
from service.api.deps import AudioUploadDep, MetricsDep, RequestedModelDep
from service.api.disconnect import unless_disconnected
from service.api.schemas import BatchTranscription, ErrorBody, Transcription
from service.api.uploads import decode_audio
from service.config import Settings
from service.errors import EmptyUploadError
from service.models.managed import ManagedModel
from transcription import Transcript
from transcription.formats import MEDIA_TYPES, render, to_json, to_verbose_json
from transcription.names import DecoderName, ResponseFormat

router = APIRouter(prefix="/v1", tags=["transcription"])

# Every response says which decoder and which model version made it, whatever its format (JSON bodies also carry
# them as `decoder` and `model_version`).
DECODER_HEADER = "X-ASR-Decoder"
MODEL_VERSION_HEADER = "X-ASR-Model-Version"

ResponseFormatQuery = Annotated[
    ResponseFormat,
    Query(
        description="`json` (default): text, words and segments with times, and the decoder; `text`: the bare "
        "transcript; `verbose_json`: OpenAI's transcription shape; `srt`, `vtt`: subtitle files."
    ),
]
BatchResponseFormatQuery = Annotated[
    ResponseFormat,
    Query(
        description='`json` (default), `text` (one line per file) or `verbose_json` (`{"results": [...]}`); '
        "`srt` and `vtt` are refused (422): a subtitle file is the timeline of one audio file."
    ),
]
DecoderChoice = Annotated[
    DecoderName | None,
    Query(description="`greedy` or `lm` (lexicon beam search with the language model); default: the server's."),
]

_ERRORS = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Empty upload.",
        413: "Upload larger than ASR_MAX_UPLOAD_BYTES, or audio longer than ASR_MAX_DURATION_H.",
        415: "Not audio in a supported format.",
        422: "Corrupt, truncated, empty or NaN/inf audio; a decoder that is not configured; two `file` parts; "
        "or a malformed request.",
        502: "The model backend answered with an error.",
        503: "Queue full or backend unavailable (with Retry-After).",
        504: "The model backend timed out.",
    }.items()
}
_FORMAT_CONTENT = {
    200: {
        "content": {
            "text/plain": {},
            "application/x-subrip": {},
            "text/vtt": {},
        },
        "description": "The transcript; `json` is the schema below, `verbose_json` OpenAI's shape.",
    }
}


@dataclass(frozen=True)
class _Result:
    """One file's transcript and what the `json` format says about how it was made (not the samples: 230 MB/h)."""

    transcript: Transcript
    source_sample_rate_hz: int
    source_channels: int
    processing_ms: float


async def _decode(upload: UploadFile, settings: Settings) -> DecodedAudio:
    # Decoding and resampling are blocking C calls: in the thread pool, never on the event loop.
    return await run_in_threadpool(decode_audio, upload.file, settings.admission.max_duration_s)


async def _transcribe_batch(
    uploads: list[UploadFile],
    started: float,
    decoder: str | None,
    settings: Settings,
    backend: ManagedModel,
    metrics: MetricsDep,
) -> list[_Result]:
    """Return each upload's result, decoding and transcribing one file at a time.

    One file's audio is held at a time (16 kHz float32: 230 MB per hour), so a batch needs the memory of its
    longest file, not of all of them. A bad file fails the request when its turn comes, its error naming it.
    """
    results = []
    for number, upload in enumerate(uploads, start=1):
        try:
            audio = await _decode(upload, settings)
        except (AudioError, EmptyUploadError) as error:
            # Same type, so the same status and code; the message says which part it was.
            raise type(error)(f"file {number} ({upload.filename or 'unnamed'}): {error}") from error
        results.append(await _transcribe(audio, started, decoder, backend, metrics))
        del audio  # before the next file is decoded
    return results


async def _transcribe(
    audio: DecodedAudio, started: float, decoder: str | None, model: ManagedModel, metrics: MetricsDep
) -> _Result:
    model_started = time.perf_counter()
    transcript = await model.transcribe(audio.samples, decoder)
    finished = time.perf_counter()
    metrics.observe_transcription(model.name, transcript.model_version, audio.duration_s, finished - model_started)
    return _Result(
        transcript, audio.source_sample_rate_hz, audio.source_channels, round((finished - started) * 1000.0, 2)
    )


def _json_body(result: _Result, settings: Settings) -> Transcription:
    return Transcription(
        **to_json(result.transcript),
        model=settings.model.name,
        model_version=result.transcript.model_version,
        processing_ms=result.processing_ms,
        source_sample_rate_hz=result.source_sample_rate_hz,
        source_channels=result.source_channels,
    )


def _verbose_json_body(result: _Result, settings: Settings) -> dict:
    # OpenAI's fields, plus the decoder our JSON responses always name (OpenAI's clients ignore unknown keys).
    return {**to_verbose_json(result.transcript, settings.model.language), "decoder": result.transcript.decoder}


def _decoder_header(results: list[_Result]) -> dict[str, str]:
    return {
        DECODER_HEADER: ",".join(sorted({result.transcript.decoder for result in results})),
        MODEL_VERSION_HEADER: ",".join(sorted({str(result.transcript.model_version) for result in results})),
    }


@router.post(
    "/transcribe",
    response_model=Transcription,
    responses={**_FORMAT_CONTENT, **_ERRORS},
    summary="Transcribe one audio file",
)
async def transcribe(
    request: Request,
    upload: AudioUploadDep,
    backend: RequestedModelDep,
    metrics: MetricsDep,
    response_format: ResponseFormatQuery = "json",
    decoder: DecoderChoice = None,
):
    """Decode, downmix and resample the upload to 16 kHz mono, and return its transcript in `response_format`.

    The audio is one multipart `file` part, or the whole request body with an `audio/*` content type
    (`curl --data-binary @a.wav -H 'content-type: audio/wav'`). Audio of any length up to ASR_MAX_DURATION_H
    is transcribed in chunks; word and segment times are seconds from the start of the file.
    """
    settings = backend.settings
    started = time.perf_counter()

    async def decode_and_transcribe() -> _Result:
        return await _transcribe(await _decode(upload, settings), started, decoder, backend, metrics)

    result = await unless_disconnected(request, decode_and_transcribe())
    headers = _decoder_header([result])
    if response_format == "json":
        return JSONResponse(_json_body(result, settings).model_dump(), headers=headers)
    if response_format == "verbose_json":
        return JSONResponse(_verbose_json_body(result, settings), headers=headers)
    return Response(
        render(result.transcript, response_format), media_type=MEDIA_TYPES[response_format], headers=headers
    )


@router.post(
    "/transcribe/batch",
    response_model=BatchTranscription,
    responses={200: {"content": {"text/plain": {}}}, **_ERRORS},
    summary="Transcribe several audio files in one request",
)
async def transcribe_batch(
    request: Request,
    file: Annotated[list[UploadFile], File(description="Repeat the `file` field once per audio file.")],
    backend: RequestedModelDep,
    metrics: MetricsDep,
    response_format: BatchResponseFormatQuery = "json",
    decoder: DecoderChoice = None,
):
    """Transcribe every `file` part, one after another, and return their transcripts in upload order.

    One file is decoded and transcribed at a time, so the batch holds the audio of one file. A bad file fails the
    request (no partial results), its error naming it.
    `srt` and `vtt` are refused (422): a subtitle file is the timeline of one audio file.
    """
    settings = backend.settings
    if response_format in ("srt", "vtt"):
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "response_format"),
                    "msg": f"{response_format} is a subtitle file for one audio file; a batch cannot be one. "
                    "Send each file to /v1/transcribe, or ask the batch for json, text or verbose_json",
                    "input": response_format,
                }
            ]
        )
    started = time.perf_counter()
    results = await unless_disconnected(request, _transcribe_batch(file, started, decoder, settings, backend, metrics))
    headers = _decoder_header(results)
    if response_format == "text":
        return Response("\n".join(r.transcript.text for r in results), media_type=MEDIA_TYPES["text"], headers=headers)
    if response_format == "verbose_json":
        return JSONResponse({"results": [_verbose_json_body(r, settings) for r in results]}, headers=headers)
    body = BatchTranscription(results=[_json_body(r, settings) for r in results])
    return JSONResponse(body.model_dump(), headers=headers)
