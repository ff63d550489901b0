"""Response bodies of the HTTP API (they are what the OpenAPI document shows)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Transcription(BaseModel):
    text: str = Field(description="The transcript.")
    duration_s: float = Field(description="Audio duration in seconds.")
    model: str = Field(description="Name of the model that transcribed it.")
    processing_ms: float = Field(description="Server time for decoding and transcribing, upload excluded.")
    source_sample_rate_hz: int = Field(description="Sample rate of the upload before resampling to 16 kHz.")
    source_channels: int = Field(description="Channels of the upload before downmixing.")
    decoder: str = Field(description="The decoder that produced the text: 'greedy' or 'lm'.")


class BatchTranscription(BaseModel):
    results: list[Transcription] = Field(description="One transcription per uploaded file, in upload order.")


class TensorSpec(BaseModel):
    dtype: str
    shape: list[int | None] | None


class ModelCard(BaseModel):
    """One served model: OpenAI's four model fields first (what `client.models.list()` reads), then ours."""

    # The OpenAI fields default to blanks because backends build the card; the `/v1/models` route fills them.
    id: str = Field("", description="The name to pass as `model` (OpenAI's field; equals `name`).")
    object: Literal["model"] = "model"
    created: int = Field(0, description="Unix time at which this gateway loaded the model.")
    owned_by: str = Field("", description="Who publishes it: this gateway.")
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
    """OpenAI's list shape; `models` is the same list under the name this API used before (kept for old clients)."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
    models: list[ModelCard] = Field(description="Deprecated: the same list as `data`.")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(description="`invalid_request_error` (4xx) or `server_error` (5xx).")
    param: str | None = Field(description="The request field at fault, if one is.")
    code: str = Field(description="The same machine-readable name our own error shape carries.")


class OpenAIErrorBody(BaseModel):
    """OpenAI's error shape, answered on `/v1/audio/...` and `/v1/models`."""

    error: OpenAIErrorDetail
