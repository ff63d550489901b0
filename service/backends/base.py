"""What the HTTP layer needs from a model backend, whichever process runs the model."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from service.savedmodel import ModelInfo


class Backend(Protocol):
    """A transcriber of 16 kHz mono float32 audio; every method is safe to await on the event loop."""

    kind: str  # "embedded" or "tfserving", reported by /v1/models

    async def start(self) -> None:
        """Connect or load; raises `ModelLoadError` / `BackendUnavailableError` if that cannot work."""

    async def close(self) -> None:
        """Release threads, channels and queued requests."""

    async def transcribe(self, samples: np.ndarray) -> str:
        """Return the transcript of one utterance (`samples`: [samples] float32, 16 kHz)."""

    async def is_ready(self) -> bool:
        """Return whether a transcription request would reach a loaded model now."""

    async def model_info(self) -> ModelInfo:
        """Return the served model's name, version, signature and vocabulary."""

    @property
    def queue_depth(self) -> int:
        """Requests accepted but not yet answered by the model."""
