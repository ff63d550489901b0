"""The WebSocket stream's messages: the client's config and end messages, the server's JSON events.

Client -> server: one text message `{"type": "config", ...}` (`StreamConfig`), then binary frames of raw PCM of any
size, then the text message `{"type": "end"}`. Server -> client: `{"type": "partial" | "final" | "error", ...}`,
then a close frame (docs/streaming.md lists the close codes).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.streaming.pcm import Encoding
from service.streaming.session import Final, Partial
from transcription.formats import word_json
from transcription.names import DecoderName


class StreamConfig(BaseModel):
    """The first message of a stream: what the audio frames hold, and how to decode them."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["config"] = "config"
    sample_rate_hz: int = Field(16_000, ge=8_000, le=192_000, description="Rate of the PCM frames.")
    encoding: Encoding = Field("pcm_s16le", description="`pcm_s16le` (16-bit ints) or `f32le` (32-bit floats).")
    channels: int = Field(1, ge=1, le=8, description="Interleaved channels; they are averaged to mono.")
    api_key: str | None = Field(None, description="Needed when the server has API keys (ASR_API_KEYS).")
    decoder: DecoderName | None = Field(None, description="Default: the model's configured decoder.")
    model: str | None = Field(None, description="A model id from GET /v1/models; default: the first listed.")


class EndOfAudio(BaseModel):
    """The client's last message: decode what is left, send the last finals, close with 1000."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["end"]


def result_event(result: Partial | Final) -> dict[str, object]:
    """Return the JSON event for a stream result."""
    if isinstance(result, Partial):
        return {
            "type": "partial",
            "segment_id": result.segment_id,
            "start_s": round(result.start_s, 3),
            "text": result.text,
            "decoded_until_s": round(result.decoded_until_s, 3),
        }
    segment = result.segment
    return {
        "type": "final",
        "segment_id": segment.id,
        "start_s": round(segment.start_s, 3),
        "end_s": round(segment.end_s, 3),
        "text": segment.text,
        "words": [word_json(word) for word in segment.words],
    }
