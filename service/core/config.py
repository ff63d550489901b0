"""The gateway's settings: one pydantic-settings model read from `ASR_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The demo SavedModel shipped inside the `service` package (package data, so `pip install` carries it), in TF
# Serving's `NAME/VERSION/` layout; `asr serve` with no flags loads it, `export-once` copies it.
BUNDLED_MODEL_PATH = Path(__file__).resolve().parents[1] / "bundled_model" / "demo"
# The demo model's word 3-gram language model (`asr lm build` on its training sentences; demo_model/README.md).
BUNDLED_LM_PATH = Path(__file__).resolve().parents[1] / "bundled_model" / "demo_lm"

# wav2vec 2.0 is trained on 16 kHz audio; the SavedModel contract takes exactly that.
MODEL_SAMPLE_RATE_HZ = 16_000


class Settings(BaseSettings):
    """Everything the gateway can be told; each field is read from `ASR_<FIELD>` (e.g. `ASR_MODEL_PATH`)."""

    model_config = SettingsConfigDict(env_prefix="ASR_", frozen=True, protected_namespaces=())

    model_path: Path = Field(
        BUNDLED_MODEL_PATH,
        description="SavedModel for the embedded backend: a version dir (with saved_model.pb) or a "
        "TF Serving model dir holding numbered versions (the highest is loaded).",
    )
    tfserving_address: str | None = Field(
        None, description="HOST:PORT of TensorFlow Serving's gRPC port; when set, the gRPC backend is used."
    )
    model_name: str = Field("wav2vec2", description="Model name in TF Serving (model_spec.name).")
    model_version: int | None = Field(None, description="Pin a TF Serving model version (default: latest).")
    signature_name: str = Field("serving_default", description="SavedModel signature to call.")

    lm_path: Path | None = Field(
        None,
        description="Language-model folder (`asr lm build`): decode the model's logits by lexicon beam search "
        "with it instead of the graph's greedy CTC. Unset: the bundled demo LM when the embedded backend serves "
        "the bundled demo model, else greedy.",
    )
    use_lm: bool = Field(True, description="false: always the graph's greedy decoding, even with an LM.")

    grpc_timeout_s: float = Field(30.0, gt=0, description="Deadline of one Predict call to TF Serving.")
    grpc_max_message_bytes: int = Field(
        64 * 1024 * 1024,
        gt=0,
        description="gRPC send/receive cap; the 4 MB default is below 60 s of float32 audio (3.84 MB).",
    )

    max_upload_bytes: int = Field(
        25 * 1024 * 1024, gt=0, description="Request body cap, enforced while streaming (413 past it)."
    )
    max_duration_s: float = Field(60.0, gt=0, description="Longest accepted audio, in seconds (413 past it).")

    # 1 on CPU: there a batch costs the sum of its utterances (2 cores: 45 ms per utterance at batch 1, 41 at 4,
    # 52 at 16), so batching only adds padding and waiting; bench.load measured 0.81x the unbatched throughput at
    # concurrency 16 with batches of up to 16 (docs/service.md, "Load test"). On a GPU set 8-16.
    batch_max_size: int = Field(
        1, ge=1, description="Most utterances per embedded-model call (1: no batching; 8-16 on a GPU)."
    )
    batch_max_wait_ms: float = Field(
        5.0, ge=0, description="How long the first queued request waits for others to join its batch."
    )
    queue_max_size: int = Field(64, ge=1, description="Requests waiting for the model; past it, 503.")
    retry_after_s: int = Field(1, ge=0, description="Retry-After sent with 503 responses.")

    host: str = Field("127.0.0.1", description="Address `asr serve` binds.")
    port: int = Field(8000, ge=0, le=65535, description="Port `asr serve` binds.")
    log_json: bool = Field(True, description="Log one JSON object per line (for log collectors).")


def language_model_path(settings: Settings) -> Path | None:
    """Return the LM folder the gateway decodes with, or None for the SavedModel's own greedy decoding."""
    if not settings.use_lm:
        return None
    if settings.lm_path is not None:
        return settings.lm_path
    # The bundled LM knows only the demo model's 270 words: never paired with a model it was not built for.
    model_path = settings.model_path.resolve()
    is_bundled_model = BUNDLED_MODEL_PATH in (model_path, *model_path.parents)
    return BUNDLED_LM_PATH if is_bundled_model and settings.tfserving_address is None else None


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
