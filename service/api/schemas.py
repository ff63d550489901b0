"""Response bodies of the HTTP API (they are what the OpenAPI document shows)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WordTiming(BaseModel):
    """The OpenAPI declaration of `transcription.formats.word_json`, the one place a word's JSON is built.

    Extra keys are refused, so a field added to `word_json` and not declared here fails every `json` response.
    """

    model_config = ConfigDict(extra="forbid")

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
    model_version: int | None = Field(description="The version of that model that answered (its NAME/VERSION/ dir).")
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


class EmbeddedRuntime(BaseModel):
    """How the embedded backend runs the model in the gateway's own process (docs/service.md, "Tuning")."""

    engine: str = Field(
        description="What runs the model: `tensorflow` (the SavedModel) or `tensorflow-lite int8` (the model.tflite "
        "of an `asr export --precision int8` version, run by LiteRT)."
    )
    intra_op_threads: int = Field(
        description="Threads one TensorFlow op splits its work over, as TensorFlow reports it; 0: its default, "
        "one per schedulable CPU."
    )
    inter_op_threads: int = Field(description="TensorFlow ops that run at once; 0: its default, as above.")
    schedulable_cpus: int = Field(description="CPUs the gateway process may run on (what 0 resolves to).")
    batch_max_size: int = Field(description="Most chunks per model call (ASR_BATCH_MAX_SIZE).")
    batch_max_wait_ms: float = Field(description="How long a chunk waits for batch mates (ASR_BATCH_MAX_WAIT_MS).")


class ModelCard(BaseModel):
    """What an engine reports about its model (`engine.EngineDescription`), as `/v1/models` lists it."""

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
    runtime: EmbeddedRuntime | None = Field(
        None, description="The embedded backend's threads and batching; null with TF Serving (its flags set them)."
    )
    loaded: bool = Field(
        True, description="False after ASR_MODEL_TTL_S unused: the next request that names it loads it again."
    )


class ListedModel(ModelCard):
    """One entry of `GET /v1/models`: OpenAI's four model fields (what `client.models.list()` reads) and ours."""

    id: str = Field(description="The name to pass as `model` (OpenAI's field; equals `name`).")
    object: Literal["model"] = "model"
    created: int = Field(description="Unix time at which this gateway loaded the model.")
    owned_by: str = Field(description="Who publishes it: this gateway.")


class ModelList(BaseModel):
    """OpenAI's list shape: every served model, the default first."""

    object: Literal["list"] = "list"
    data: list[ListedModel]


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
