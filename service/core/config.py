"""The gateway's settings: one pydantic-settings model read from `ASR_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The demo SavedModel shipped inside the `service` package (package data, so `pip install` carries it), in TF
# Serving's `NAME/VERSION/` layout; `asr serve` with no flags loads it, `export-once` copies it.
BUNDLED_MODEL_PATH = Path(__file__).resolve().parents[1] / "bundled_model" / "demo"
# Its word 3-gram language model (`asr lm build` on its training sentences; demo_model/README.md) travels inside
# the version directory (`assets.extra/lm`, model_export/contract.py), so every copy of the model carries it.

# wav2vec 2.0 is trained on 16 kHz audio; the SavedModel contract takes exactly that.
MODEL_SAMPLE_RATE_HZ = 16_000


class Settings(BaseSettings):
    """Everything the gateway can be told; each field is read from `ASR_<FIELD>` (e.g. `ASR_MODEL_PATH`)."""

    model_config = SettingsConfigDict(env_prefix="ASR_", frozen=True, protected_namespaces=())

    model_path: Path = Field(
        BUNDLED_MODEL_PATH,
        description="The SavedModel: a version dir (with saved_model.pb) or a TF Serving model dir holding numbered "
        "versions (the highest is used). The embedded backend runs it; with TF Serving the gateway reads only its "
        "assets (vocabulary, frame rate, language model), so point it at the directory TF Serving serves.",
    )
    tfserving_address: str | None = Field(
        None, description="HOST:PORT of TensorFlow Serving's gRPC port; when set, the gRPC backend is used."
    )
    model_name: str = Field("wav2vec2", description="Model name in TF Serving (model_spec.name).")
    model_version: int | None = Field(None, description="Pin a TF Serving model version (default: latest).")

    decoder: Literal["auto", "greedy", "lm"] = Field(
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

    grpc_timeout_s: float = Field(30.0, gt=0, description="Deadline of one Predict call to TF Serving.")
    grpc_max_message_bytes: int = Field(
        64 * 1024 * 1024,
        gt=0,
        description="gRPC send/receive cap; the 4 MB default is below 60 s of float32 audio (3.84 MB).",
    )

    max_upload_bytes: int = Field(
        25 * 1024 * 1024, gt=0, description="Request body cap, enforced while streaming (413 past it)."
    )
    max_duration_h: float = Field(
        3.0, gt=0, description="Longest accepted audio, in hours (413 past it); memory is bounded by ASR_CHUNK_S."
    )

    batch_max_size: int = Field(8, ge=1, description="Most utterances per embedded-model call (1: no batching).")
    batch_max_wait_ms: float = Field(
        5.0, ge=0, description="How long the first queued request waits for others to join its batch."
    )
    queue_max_size: int = Field(64, ge=1, description="Requests waiting for the model; past it, 503.")
    retry_after_s: int = Field(1, ge=0, description="Retry-After sent with 503 responses.")

    host: str = Field("127.0.0.1", description="Address `asr serve` binds.")
    port: int = Field(8000, ge=0, le=65535, description="Port `asr serve` binds.")
    log_json: bool = Field(True, description="Log one JSON object per line (for log collectors).")

    @property
    def max_duration_s(self) -> float:
        return self.max_duration_h * 3600.0


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
