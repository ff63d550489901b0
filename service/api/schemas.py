"""Response bodies of the HTTP API (they are what the OpenAPI document shows)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WordTiming(BaseModel):
    text: str
    start_s: float = Field(description="Seconds from the start of the file.")
    end_s: float
    confidence: float = Field(description="In [0, 1]; how each decoder computes it: docs/transcripts.md.")


class SegmentTiming(BaseModel):
    id: int
    start_s: float
    end_s: float
    text: str = Field(description="A subtitle-sized run of words, split at pauses or at a maximum length.")


class Transcription(BaseModel):
    text: str = Field(description="The transcript.")
    duration_s: float = Field(description="Audio duration in seconds.")
    model: str = Field(description="Name of the model that transcribed it.")
    processing_ms: float = Field(description="Server time for decoding and transcribing, upload excluded.")
    source_sample_rate_hz: int = Field(description="Sample rate of the upload before resampling to 16 kHz.")
    source_channels: int = Field(description="Channels of the upload before downmixing.")
    decoder: str = Field(description="The decoder that produced the text: 'greedy' or 'lm'.")
    words: list[WordTiming] = Field(description="Every word with its times, in order.")
    segments: list[SegmentTiming] = Field(description="The words grouped into subtitle-sized segments.")


class BatchTranscription(BaseModel):
    results: list[Transcription] = Field(description="One transcription per uploaded file, in upload order.")


class TensorSpec(BaseModel):
    dtype: str
    shape: list[int | None] | None


class ModelCard(BaseModel):
    name: str
    version: int | None
    backend: str = Field(description="'embedded' (in-process SavedModel) or 'tfserving' (gRPC).")
    signature_name: str
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    sample_rate_hz: int
    vocab: list[str] | None = Field(description="CTC vocabulary in id order; null when the backend hides it.")
    decoder: str = Field(description="The decoder used when a request names none: 'greedy' or 'lm'.")
    decoders: list[str] = Field(description="The decoders a request may ask for (`decoder=`).")
    decoder_description: str = Field(description="How the default decoder turns logits into words.")


class ModelList(BaseModel):
    models: list[ModelCard]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str
