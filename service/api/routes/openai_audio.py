"""`POST /v1/audio/transcriptions`: OpenAI's transcription endpoint, for the `openai` SDK and tools built on it.

The form fields, response shapes, server-sent events and error shape are OpenAI's (docs/service.md, "OpenAI-
compatible API"). What wav2vec 2.0 cannot honour is decided field by field:
- `language` other than the model's: refused (400). The caller says the audio is in that language; an English
  CTC model would answer with English-sounding letters, a wrong transcript that looks like a right one.
- `prompt`: accepted, not used. It steers Whisper's style and spelling; a CTC model has no text context to give
  it to, and the transcript is the same one the caller would get without it.
- `temperature`: accepted, not used. CTC decoding never samples, which is what temperature 0 asks of Whisper
  (segments report `temperature: 0.0`); a higher value only lets Whisper retry by sampling.
- `timestamp_granularities[]` with a format other than `verbose_json`: refused (400), as OpenAI does.
- `stream=true` with `srt`, `vtt` or `verbose_json`: refused (400); the events carry text only.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from audio_input import AudioError, DecodedAudio
from engine.errors import ServiceError
from service.api.deps import MetricsDep, ModelsDep
from service.api.disconnect import unless_disconnected
from service.api.errors import service_error_response
from service.api.routes.transcribe import MODEL_VERSION_HEADER
from service.api.schemas import OpenAIErrorBody
from service.api.uploads import decode_audio
from service.config import Settings
from service.errors import UnsupportedParameterError
from service.models.managed import ManagedModel
from transcription import Transcript, Word
from transcription.formats import MEDIA_TYPES, to_srt, to_verbose_json, to_vtt
from transcription.names import ResponseFormat

router = APIRouter(prefix="/v1/audio", tags=["openai"])

Granularity = Literal["word", "segment"]
PATH = "/v1/audio/transcriptions"

_ERRORS = {
    status: {"model": OpenAIErrorBody, "description": description}
    for status, description in {
        400: "Empty upload; a `language` the model does not transcribe; granularities without verbose_json.",
        401: "API keys are set and the request has none of them as `Authorization: Bearer KEY`.",
        404: "`model` is not a model this gateway serves (see GET /v1/models).",
        413: "Upload or audio too long.",
        415: "Not audio in a supported format.",
        422: "Corrupt audio, or a malformed form field.",
        503: "Queue full or backend unavailable (with Retry-After).",
    }.items()
}


def check_language(language: str | None, settings: Settings) -> str:
    """Return the verbose_json name of the model's language; raise if the caller asked for another language."""
    name, code = settings.model.language.lower(), settings.model.language_code
    if language and language.strip().lower() not in {name, code}:
        accepted = " or ".join(repr(value) for value in sorted({code, name}))
        raise UnsupportedParameterError(
            f"language {language!r} is not supported: the model `{settings.model.name}` transcribes only {name}; "
            f"omit `language` or pass {accepted}",
            param="language",
        )
    return settings.model.language


@router.post(
    "/transcriptions",
    responses={
        200: {
            "description": "`json`/`verbose_json`: a JSON object; `text`, `srt`, `vtt`: plain text; "
            "`stream=true`: server-sent events `transcript.text.delta` then `transcript.text.done`.",
            "content": {"text/plain": {}, "text/event-stream": {}},
        },
        **_ERRORS,
    },
    summary="Transcribe audio, OpenAI-style (use the `openai` SDK with base_url=http://HOST:PORT/v1)",
)
async def create_transcription(
    request: Request,
    file: Annotated[UploadFile, File(description="The audio file: WAV, FLAC, OGG/Vorbis/Opus, MP3 or WebM/Opus.")],
    model: Annotated[str, Form(description="A model id from GET /v1/models.")],
    models: ModelsDep,
    metrics: MetricsDep,
    language: Annotated[
        str | None, Form(description="ISO-639-1 code; only the model's own language is accepted.")
    ] = None,
    prompt: Annotated[str | None, Form(description="Accepted and not used (a CTC model has no text context).")] = None,
    response_format: Annotated[ResponseFormat, Form()] = "json",
    temperature: Annotated[
        float, Form(ge=0.0, le=1.0, description="Accepted and not used: CTC decoding never samples.")
    ] = 0.0,
    timestamp_granularities: Annotated[
        list[Granularity] | None,
        Form(alias="timestamp_granularities[]", description="`word` and/or `segment`; verbose_json only."),
    ] = None,
    stream: Annotated[bool, Form(description="Send the text as server-sent events while it is recognised.")] = False,
):
    """Return the transcript of `file` in OpenAI's shape for `response_format`, or stream it as events."""
    backend = models.get(model)  # 404 model_not_found for a model this gateway does not serve
    settings = backend.settings
    language_name = check_language(language, settings)
    if timestamp_granularities and response_format != "verbose_json":
        raise UnsupportedParameterError(
            "timestamp_granularities[] needs response_format=verbose_json", param="timestamp_granularities"
        )
    if stream and response_format not in ("json", "text"):
        raise UnsupportedParameterError(
            f"stream=true sends text events; response_format {response_format!r} cannot be streamed "
            "(use json or text, or stream=false)",
            param="stream",
        )
    # Decoding and resampling are blocking C calls: in the thread pool, never on the event loop. A bad file is
    # a 4xx here, before any event of a stream is sent.
    audio = await run_in_threadpool(decode_audio, file.file, settings.admission.max_duration_s)
    if stream:
        # Refused now, a busy server answers 503 with Retry-After; past the 200 it could only send an error event.
        backend.check_admission(audio.samples)
        return StreamingResponse(
            _events(audio, backend, metrics, settings.http.retry_after_s),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    # asr_model_duration_seconds is the backend's time, as on /v1/transcribe: the upload's decoding is not in it.
    model_started = time.perf_counter()
    transcript = await unless_disconnected(request, backend.transcribe(audio.samples))
    metrics.observe_transcription(
        backend.name, transcript.model_version, audio.duration_s, time.perf_counter() - model_started
    )
    response = _render(transcript, response_format, set(timestamp_granularities or ["segment"]), language_name)
    response.headers[MODEL_VERSION_HEADER] = str(transcript.model_version)
    return response


def _render(
    transcript: Transcript, response_format: str, granularities: set[str], language_name: str
) -> JSONResponse | PlainTextResponse:
    """Return the response OpenAI sends for `response_format`."""
    usage = {"type": "duration", "seconds": round(transcript.duration_s, 3)}
    if response_format == "json":
        return JSONResponse({"text": transcript.text, "usage": usage})
    if response_format == "verbose_json":
        body = to_verbose_json(transcript, language=language_name)
        # Like OpenAI: segments by default, words only when asked for, each list only when asked for.
        for granularity, key in (("segment", "segments"), ("word", "words")):
            if granularity not in granularities:
                body.pop(key, None)
        return JSONResponse(body)
    text = {"text": transcript.text, "srt": to_srt, "vtt": to_vtt}
    rendered = transcript.text if response_format == "text" else text[response_format](transcript)
    return PlainTextResponse(rendered, media_type=MEDIA_TYPES[response_format])


def _sse(event: dict) -> bytes:
    return f"data: {json.dumps(event)}\n\n".encode()


async def _events(
    audio: DecodedAudio, backend: ManagedModel, metrics: MetricsDep, retry_after_s: int
) -> AsyncIterator[bytes]:
    """Yield `transcript.text.delta` per chunk of words as the backend finalises them, then `.done`."""
    started = time.perf_counter()
    words: list[Word] = []
    try:
        # aclosing: when the client leaves, Starlette cancels this stream, and the request's chunks leave the queue.
        async with contextlib.aclosing(backend.transcribe_chunks(audio.samples)) as pieces:
            async for chunk_words in pieces:
                if not chunk_words:
                    continue
                delta = " ".join(word.text for word in chunk_words)
                yield _sse({"type": "transcript.text.delta", "delta": (" " if words else "") + delta})
                words.extend(chunk_words)
    except (ServiceError, AudioError) as error:
        # The status line is long gone: the error travels as an event, which the SDK raises as an APIError.
        response = service_error_response(error, retry_after_s, path=PATH)
        yield _sse(json.loads(response.body))
        return
    metrics.observe_transcription(backend.name, backend.version, audio.duration_s, time.perf_counter() - started)
    yield _sse({"type": "transcript.text.done", "text": " ".join(word.text for word in words)})
