"""Renders a `Transcript` in the output formats users ask for: json, text, verbose_json (OpenAI's shape), srt, vtt.

Pure functions, no I/O: `/v1/transcribe`, the OpenAI-compatible route and `asr transcribe` all write what these
return, so a transcript reads the same through every front door. Times are rounded to milliseconds, the
resolution both subtitle formats have.

`verbose_json` uses exactly the field names of OpenAI's transcription response (`openai.types.audio.
TranscriptionVerbose`). Fields that mean something only for Whisper's decoder get these values:
- no `task` field: OpenAI's example responses carry `"task": "transcribe"`, its SDK's type does not; we follow the type.
- `language`: the caller's (the model's language; "english" for the bundled demo model), as OpenAI spells it.
- segment `seek`: the segment's start in 10 ms frames, the unit Whisper's `seek` counts in (Whisper gives the
  start of the 30 s window the segment was decoded in; wav2vec2's chunks are an internal detail).
- segment `tokens`: `[]` (a CTC model's tokens are characters, not ids of a text tokenizer clients could use).
- segment `temperature`: `0.0` (CTC decoding, greedy or beam search, never samples).
- segment `avg_logprob`: the mean natural log of the segment's word confidences (a confidence of 0 counts as
  1e-6), so OpenAI's rule of thumb "below -1: the decoding is doubtful" keeps roughly its sense.
- segment `compression_ratio`: computed as Whisper does (UTF-8 bytes of the text / zlib-compressed bytes); above
  2.4 the text is repetitive.
- segment `no_speech_prob`: `0.0` (wav2vec2 has no "no speech" token; a segment exists only where words were).
"""

from __future__ import annotations

import math
import re
import zlib
from typing import Any

from transcription.names import RESPONSE_FORMATS
from transcription.types import Segment, Transcript, Word

# The content type of an HTTP response in each format.
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "verbose_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}

# Whisper's `seek` counts mel frames of 10 ms.
_SEEK_FRAMES_PER_S = 100
_MIN_CONFIDENCE = 1e-6  # log(0) has no JSON value; 1e-6 gives avg_logprob -13.8, far below OpenAI's -1 threshold
# The cue-timing separator: in a cue's text it would end the text early (SRT) or make the cue invalid (WebVTT).
_CUE_ARROW = "-->"


def _seconds(value: float) -> float:
    return round(value, 3)


def word_json(word: Word) -> dict[str, Any]:
    """Returns one word as `json` lists it: text, start_s, end_s, confidence."""
    return {
        "text": word.text,
        "start_s": _seconds(word.start_s),
        "end_s": _seconds(word.end_s),
        "confidence": round(word.confidence, 4),
    }


def segment_json(segment: Segment) -> dict[str, Any]:
    """Returns one segment as `json` lists it: id, start_s, end_s, text (its words are in the top-level list)."""
    return {
        "id": segment.id,
        "start_s": _seconds(segment.start_s),
        "end_s": _seconds(segment.end_s),
        "text": segment.text,
    }


def to_json(transcript: Transcript) -> dict[str, Any]:
    """Returns the `json` body's transcript fields: text, duration_s, decoder, words[], segments[]."""
    return {
        "text": transcript.text,
        "duration_s": round(transcript.duration_s, 4),
        "decoder": transcript.decoder,
        "words": [word_json(word) for word in transcript.words],
        "segments": [segment_json(segment) for segment in transcript.segments],
    }


def to_text(transcript: Transcript) -> str:
    """Returns the bare transcript text (the `text` format)."""
    return transcript.text


def compression_ratio(text: str) -> float:
    """Returns Whisper's repetition measure: UTF-8 length over zlib-compressed length (0 for empty text)."""
    if not text:
        return 0.0
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))


def _avg_logprob(words: tuple[Word, ...]) -> float:
    if not words:
        return 0.0
    return sum(math.log(max(word.confidence, _MIN_CONFIDENCE)) for word in words) / len(words)


def to_verbose_json(transcript: Transcript, language: str = "english") -> dict[str, Any]:
    """Returns the transcript in OpenAI's `verbose_json` shape; see the module docstring for Whisper-only fields."""
    return {
        "language": language,
        "duration": _seconds(transcript.duration_s),
        "text": transcript.text,
        "segments": [
            {
                "id": segment.id,
                "seek": round(segment.start_s * _SEEK_FRAMES_PER_S),
                "start": _seconds(segment.start_s),
                "end": _seconds(segment.end_s),
                "text": segment.text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": round(_avg_logprob(segment.words), 4),
                "compression_ratio": round(compression_ratio(segment.text), 4),
                "no_speech_prob": 0.0,
            }
            for segment in transcript.segments
        ],
        "words": [
            {"word": word.text, "start": _seconds(word.start_s), "end": _seconds(word.end_s)}
            for word in transcript.words
        ],
        "usage": {"type": "duration", "seconds": _seconds(transcript.duration_s)},
    }


def _timestamp(seconds: float, decimal_mark: str) -> str:
    """Returns `HH:MM:SS<mark>mmm`; hours keep counting past 99 rather than wrapping."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest_ms = divmod(total_ms, 3_600_000)
    minutes, rest_ms = divmod(rest_ms, 60_000)
    secs, ms = divmod(rest_ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{ms:03d}"


def _cue_text(text: str) -> str:
    """Returns `text` safe as one subtitle cue: on one line (a blank line ends a cue) and without `-->`."""
    return " ".join(text.split()).replace(_CUE_ARROW, "->")


def _cues(transcript: Transcript) -> list[tuple[float, float, str]]:
    """Returns (start_s, end_s, text) per non-empty segment; an end is kept at least 1 ms after its start."""
    cues = []
    for segment in transcript.segments:
        text = _cue_text(segment.text)
        if text:
            cues.append((segment.start_s, max(segment.end_s, segment.start_s + 0.001), text))
    return cues


def to_srt(transcript: Transcript) -> str:
    """Returns the segments as a SubRip file: numbered cues, `01:02:03,456 --> ...` times, blank-line separated."""
    return "".join(
        f"{index}\n{_timestamp(start_s, ',')} --> {_timestamp(end_s, ',')}\n{text}\n\n"
        for index, (start_s, end_s, text) in enumerate(_cues(transcript), start=1)
    )


_VTT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_VTT_SPECIAL = re.compile("[&<>]")


def to_vtt(transcript: Transcript) -> str:
    """Returns the segments as a WebVTT file; `&`, `<`, `>` are escaped, since WebVTT cue text carries markup."""
    cues = "".join(
        f"\n{_timestamp(start_s, '.')} --> {_timestamp(end_s, '.')}\n"
        f"{_VTT_SPECIAL.sub(lambda match: _VTT_ESCAPES[match.group()], text)}\n"
        for start_s, end_s, text in _cues(transcript)
    )
    return "WEBVTT\n" + cues


def render(transcript: Transcript, response_format: str, language: str = "english") -> dict[str, Any] | str:
    """Returns the transcript in `response_format`: a dict for the JSON formats, a string for the others."""
    renderers = {
        "json": to_json,
        "text": to_text,
        "verbose_json": lambda t: to_verbose_json(t, language),
        "srt": to_srt,
        "vtt": to_vtt,
    }
    if response_format not in renderers:
        raise ValueError(f"unknown response format {response_format!r}; choose one of {list(RESPONSE_FORMATS)}")
    return renderers[response_format](transcript)
