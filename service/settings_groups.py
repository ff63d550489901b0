"""The gateway's settings by concern: one model per group, each read by the part of the service that needs it.

The engine (a model's backend, its decoding and its batching) is built from `model`, `decoding`, `batching`,
`admission` and `tfserving`; the HTTP doors add `http` and `stream`, Wyoming adds `wyoming` and `stream`, the
model registry reads `registry`. Each field keeps the environment variable it has always had: `ASR_` + the
group's `env_prefix` + the field's name (`stream.hop_s` is ASR_STREAM_HOP_S), or the name in `env_names`
where the group's variables do not share one prefix (service/config.py reads them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from model_export.export_cache import default_cache_dir
from transcription.names import DecoderName

# ISO-639-1 codes of the language names ASR_LANGUAGE takes: OpenAI's `language` field and Wyoming's info speak codes.
LANGUAGE_CODES = {
    "english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it", "dutch": "nl",
    "portuguese": "pt", "polish": "pl", "russian": "ru", "chinese": "zh", "japanese": "ja",
}  # fmt: skip

# A model's name as the doors take it (OpenAI's `model`, `?model=`, the WebSocket config, Wyoming's `name`) and
# as TF Serving's model_spec.name and a directory name take it.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

# `auto`: the LM decoder when a language model is configured or travels with the model, else greedy.
DecoderSetting = Literal["auto", DecoderName]

# The demo SavedModel shipped inside the `service` package (package data, so `pip install` carries it), in TF
# Serving's `NAME/VERSION/` layout; `asr serve` with no flags loads it, `export-once` copies it.
BUNDLED_MODEL_PATH = Path(__file__).resolve().parent / "bundled_model" / "demo"
# Its word 3-gram language model (`asr lm build` on its training sentences; demo_model/README.md) travels inside
# the version directory (`assets.extra/lm`, model_export/contract.py), so every copy of the model carries it.


class SettingsGroup(BaseModel):
    """One concern's settings; `variable_name(field)` is the `ASR_*` variable (lower case, no prefix) it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    env_prefix: ClassVar[str] = ""
    env_names: ClassVar[dict[str, str]] = {}

    @classmethod
    def variable_name(cls, field: str) -> str:
        return cls.env_names.get(field, cls.env_prefix + field)


class ModelSpec(BaseModel):
    """One more model behind the gateway (`ASR_MODELS`, `--model NAME=PATH_OR_ID`): where it is and what differs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Field(description="SavedModel dir, HF checkpoint folder or Hub id, as ASR_MODEL takes.")
    language: str | None = Field(None, description="Its language (default: ASR_LANGUAGE).")
    lm_path: Path | None = Field(None, description="An LM folder instead of the one in its assets.extra/lm/.")
    decoder: DecoderSetting | None = Field(None, description="Its default decoder (default: ASR_DECODER).")


class ModelSettings(SettingsGroup):
    """The model a backend serves: where it is, its name and version, and its language."""

    env_prefix: ClassVar[str] = "model_"
    env_names: ClassVar[dict[str, str]] = {"language": "language"}

    path: Path = Field(
        BUNDLED_MODEL_PATH,
        description="The model (`ASR_MODEL` or `ASR_MODEL_PATH`): a SavedModel, i.e. a version dir (with "
        "saved_model.pb) or a TF Serving model dir holding numbered versions (the highest is used); or an HF "
        "checkpoint folder or Hugging Face Hub id (e.g. facebook/wav2vec2-base-960h), downloaded and exported once "
        "into ASR_MODEL_CACHE_DIR. The embedded backend runs it; with TF Serving the gateway reads only its assets "
        "(vocabulary, frame rate, language model), so point it at the directory TF Serving serves.",
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Where a checkpoint or Hub id given as the model is exported to, once; later starts reuse it. "
        "Default `$XDG_CACHE_HOME/wav2vec2-asr/exports` (`~/.cache/...`); with a read-only root file system, a "
        "mounted volume.",
    )
    name: str = Field(
        "wav2vec2",
        pattern=MODEL_NAME_PATTERN,
        description="The default model's name: in responses, in TF Serving (model_spec.name), and what requests "
        "name to choose it.",
    )
    version: int | None = Field(None, description="Pin a TF Serving model version (default: latest).")
    language: str = Field(
        "english", description="The language the model transcribes, as `verbose_json` names it (OpenAI's style)."
    )

    @property
    def language_code(self) -> str:
        """The ISO-639-1 code of `language` (the name itself when it is not in LANGUAGE_CODES)."""
        return LANGUAGE_CODES.get(self.language.lower(), self.language.lower())


class RegistrySettings(SettingsGroup):
    """The models beside the default one, and how the registry loads, swaps and unloads them."""

    models: dict[str, ModelSpec] = Field(
        {},
        description="More models behind the same gateway, by name, beside the default one (ASR_MODEL, "
        'ASR_MODEL_NAME): JSON such as `{"de": "/models/de", "en-v2": {"path": "org/model", "decoder": '
        '"greedy"}}` (a path or Hub id, or a ModelSpec). A request names one (`model`); none names the default.',
    )
    model_poll_s: float = Field(
        5.0,
        ge=0,
        description="How often a model folder (NAME/ with numbered versions) is checked for a new version, which "
        "is then loaded, warmed and swapped in without dropping a request (0: never).",
    )
    model_ttl_s: float = Field(
        0.0, ge=0, description="Unload a model unused this long; the next request loads it again (0: never)."
    )
    max_loaded_models: int = Field(
        0, ge=0, description="Most models loaded at once; loading one more unloads the least recently used (0: all)."
    )

    @field_validator("models", mode="before")
    @classmethod
    def _paths_as_specs(cls, value: object) -> object:
        """A bare path or Hub id stands for `{"path": ...}`."""
        if isinstance(value, dict):
            return {name: {"path": spec} if isinstance(spec, str | Path) else spec for name, spec in value.items()}
        return value

    @field_validator("models")
    @classmethod
    def _names_are_model_names(cls, models: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        for name in models:
            if not re.match(MODEL_NAME_PATTERN, name):
                raise ValueError(f"model name {name!r} must be letters, digits, '.', '_' or '-' (no '/')")
        return models


class DecodingSettings(SettingsGroup):
    """How a model's logits become a transcript: the decoder, the windows of long audio, segments, silence."""

    decoder: DecoderSetting = Field(
        "auto",
        description="How logits become words (docs/transcripts.md): `greedy` CTC, `lm` lexicon beam search with the "
        "language model (an error if there is none), or `auto`: `lm` when a language model is configured "
        "(ASR_LM_PATH) or travels with the model (its `assets.extra/lm/`), else `greedy`. A request may still "
        "ask for `greedy`.",
    )
    lm_path: Path | None = Field(
        None,
        description="Language-model folder (`asr lm build`) to use instead of the one in the model's "
        "`assets.extra/lm/`.",
    )
    chunk_s: float = Field(
        5.0,
        gt=0,
        description="Audio longer than this is transcribed in overlapping windows of this length. The default suits "
        "the demo model, trained on clips of a few seconds (measured: bench/long_audio.py, docs/transcripts.md); "
        "models trained on long utterances (LibriSpeech) take 20-30 s.",
    )
    chunk_context_s: float = Field(
        1.0,
        ge=0,
        description="Seconds at each side of a window that only give context and are dropped when the windows' "
        "outputs are stitched; consecutive windows overlap by twice this.",
    )
    decode_threads: int = Field(
        2, ge=1, description="Threads that decode logits into words (LM beam search), apart from the model's thread."
    )
    segment_pause_s: float = Field(0.5, ge=0, description="A pause this long between words starts a new segment.")
    segment_max_s: float = Field(7.0, gt=0, description="Longest segment, in seconds.")
    segment_max_chars: int = Field(84, ge=1, description="Longest segment text, in characters (two subtitle lines).")
    silence_floor_dbfs: float = Field(
        -70.0,
        description="Windows whose loudest 20 ms stays below this level (or 50 dB below the file's loudest) are "
        "silence and skip the model (transcription/silence.py).",
    )


class BatchingSettings(SettingsGroup):
    """How chunks share model calls, and TensorFlow's thread pools for a model run in-process."""

    # 8: a long file's chunks have equal lengths, so batching them wastes no padding. On a CPU a batch costs about
    # the sum of its utterances, so batches of mixed-length uploads gain nothing (docs/service.md, "Load test",
    # has bench.load's numbers); on a GPU, which runs a batch's utterances in parallel, use 8-16.
    batch_max_size: int = Field(8, ge=1, description="Most chunks per model call (1: no batching; 8-16 on a GPU).")
    batch_max_wait_ms: float = Field(
        5.0, ge=0, description="How long the first queued request waits for others to join its batch."
    )
    # TensorFlow sizes both pools by the CPUs the process may run on, not by a container's CPU limit
    # (engine/thread_pools.py): in a container, set intra-op to the CPU limit. bench.load compares settings.
    intra_op_threads: int = Field(
        0,
        ge=0,
        description="Embedded backend: threads one TensorFlow op splits its work over (0: TensorFlow's default, "
        "one per schedulable CPU). Set before the model loads; TF Serving has its own flag.",
    )
    inter_op_threads: int = Field(
        0,
        ge=0,
        description="Embedded backend: TensorFlow ops that run at once, across concurrent model calls "
        "(0: TensorFlow's default, one per schedulable CPU).",
    )


class AdmissionSettings(SettingsGroup):
    """What one request may bring, and what the requests being transcribed may hold together."""

    max_duration_h: float = Field(
        3.0,
        gt=0,
        description="Longest accepted audio, in hours (413 past it). Memory: the decoded 16 kHz float32 audio "
        "(230 MB per hour) plus what ASR_CHUNK_S bounds.",
    )
    queue_max_size: int = Field(
        64,
        ge=1,
        description="Requests being transcribed at once (their chunks take turns at the model); past it, 503 "
        "`queue_full`. Each is admitted or refused whole, before its work starts.",
    )
    queue_max_audio_h: float = Field(
        4.0,
        gt=0,
        description="Hours of audio the requests being transcribed may hold together (230 MB per hour); a request "
        "that would pass it gets 503 `queue_full`, unless it is the only one.",
    )

    @property
    def max_duration_s(self) -> float:
        return self.max_duration_h * 3600.0


class TfServingSettings(SettingsGroup):
    """Where TF Serving is and what it serves, and the gRPC calls to it."""

    env_prefix: ClassVar[str] = "tfserving_"
    # `model_config` is pydantic's own attribute, hence `model_config_file` for ASR_TFSERVING_MODEL_CONFIG.
    env_names: ClassVar[dict[str, str]] = {
        "model_config_file": "tfserving_model_config",
        "grpc_timeout_s": "grpc_timeout_s",
        "grpc_max_message_bytes": "grpc_max_message_bytes",
    }

    address: str | None = Field(
        None, description="HOST:PORT of TensorFlow Serving's gRPC port; when set, the gRPC backend is used."
    )
    model_config_file: Path | None = Field(
        None,
        description="TF Serving's model config file (its --model_config_file, e.g. /config/models.config): "
        "`asr serve` and `asr wyoming` serve every model it lists under its name, the first the default unless "
        "ASR_MODEL_NAME names another, each model's assets read from its base_path (mount the models read-only "
        "where TF Serving sees them). Takes the place of ASR_MODEL and ASR_MODELS; needs ASR_TFSERVING_ADDRESS.",
    )
    grpc_timeout_s: float = Field(30.0, gt=0, description="Deadline of one Predict call to TF Serving.")
    grpc_max_message_bytes: int = Field(
        64 * 1024 * 1024,
        gt=0,
        description="gRPC send/receive cap; the 4 MB default is below 60 s of float32 audio (3.84 MB).",
    )


class HttpSettings(SettingsGroup):
    """What `asr serve`'s HTTP doors take: bind address, body and head limits, keys, CORS, shutdown."""

    host: str = Field("127.0.0.1", description="Address `asr serve` binds; without API keys, keep it on loopback.")
    port: int = Field(8000, ge=0, le=65535, description="Port `asr serve` binds.")
    # 3 h of speech as a 128 kbit/s MP3 is 173 MB, as 64 kbit/s Opus 86 MB: the cap fits long compressed files
    # (an uncompressed 16 kHz 16-bit WAV fits 2.3 h). Uploads spool to disk past 1 MiB, never to memory.
    max_upload_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Request body cap in bytes, enforced while streaming (413 past it)."
    )
    # A head comes in one packet or a few; nginx's client_header_timeout is 60 s. Past it a trickling (slowloris)
    # connection is answered 408 and closed, so it cannot hold a file descriptor forever
    # (service/api/middleware/http_protocol.py).
    request_head_timeout_s: float = Field(
        15.0, gt=0, description="Time a request's line and headers may take to arrive under `asr serve` (408 past it)."
    )
    retry_after_s: int = Field(1, ge=0, description="Retry-After sent with 503 responses.")
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (),
        description="Comma-separated API keys; when any is set (here or in api_keys_file), every transcription "
        "and model route needs `Authorization: Bearer KEY`. Secret: never shown in logs or reprs.",
    )
    api_keys_file: Path | None = Field(
        None, description="File with one API key per line (blank lines and `#` comments skipped): a k8s Secret."
    )
    cors_allow_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Comma-separated origins browsers may call the API from (`*` for any); none by default.",
    )
    # Kubernetes waits 30 s (terminationGracePeriodSeconds) between SIGTERM and SIGKILL: 15 s leaves room for the
    # lifespan's shutdown and the endpoint removal to reach the load balancer.
    shutdown_timeout_s: float = Field(
        15.0,
        gt=0,
        description="On SIGTERM, how long streams get to send the finals of the audio they received (then they close "
        "1001) and requests to finish; an upload still arriving near the end gets 503. Then the process exits.",
    )

    @field_validator("api_keys", "cors_allow_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        """Read `a,b` from an environment variable as a list; a list passed in code stays as it is."""
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value


class StreamSettings(SettingsGroup):
    """WebSocket streaming (docs/streaming.md): the window a stream re-decodes, and each stream's limits.

    Wyoming's connections take the same limits (cap, idle timeout, duration, backlog).
    """

    env_prefix: ClassVar[str] = "stream_"

    hop_s: float = Field(0.5, gt=0, description="Audio between two re-decodes of a stream's window.")
    left_context_s: float = Field(1.0, ge=0, description="Audio before a segment decoded with it.")
    right_context_s: float = Field(0.5, ge=0, description="Audio that must follow a word before it is final.")
    pause_s: float = Field(0.5, gt=0, description="A gap between words this long ends a segment.")
    max_segment_s: float = Field(10.0, gt=1, description="Longest segment; longer speech is cut.")
    reuse_features: bool = Field(
        True,
        description="Keep the conv features of audio a stream has encoded and encode only new audio each hop (exports "
        "with the conv_features signature; docs/streaming.md, 'Streaming per core').",
    )
    max_streams: int = Field(16, ge=1, description="Open streams at once; past it, close 1013.")
    max_concurrent_decodes: int = Field(
        4,
        ge=1,
        description="Stream decodes in flight at once (all streams); keep below ASR_BATCH_MAX_SIZE so HTTP "
        "requests find room in the model's batches.",
    )
    idle_timeout_s: float = Field(15.0, gt=0, description="Close 4408 after this long without a message.")
    max_duration_s: float = Field(
        3600.0, gt=0, description="Longest connection; then the last segment is flushed and it closes 4413."
    )
    max_lead_s: float = Field(
        5.0, ge=0, description="How far ahead of real time a client may send audio; past it, close 4429."
    )
    max_backlog_s: float = Field(
        30.0, gt=0, description="Audio a stream may wait to be decoded when the server is overloaded; then 1013."
    )
    max_pending_events: int = Field(
        64, ge=1, description="Events waiting for a client that does not read them; past it, close 1008."
    )
    config_timeout_s: float = Field(
        5.0, gt=0, description="Close 4408 when a stream's config message has not come this long after it opened."
    )


class WyomingSettings(SettingsGroup):
    """What one Wyoming event may carry (`asr wyoming`, docs/streaming.md)."""

    env_prefix: ClassVar[str] = "wyoming_"

    # Home Assistant sends 1024-frame chunks (2 KiB at 16-bit mono); the cap takes 16 s of 16 kHz 16-bit mono in
    # one chunk, half the default ASR_STREAM_MAX_BACKLOG_S, so a whole chunk always fits the stream's window.
    max_payload_bytes: int = Field(
        512 * 1024,
        gt=0,
        description="Largest Wyoming event payload (an audio-chunk's PCM); a larger one is refused from its header "
        "(`event_too_large`), before any of it is read.",
    )
