"""Where a model's logits come from: the export run in this process, or TensorFlow Serving over gRPC.

A logits source answers one question, "the logits of these chunks", plus whether it can now and what it runs; it
knows nothing of chunking, decoding, transcripts or the doors. The engine (`engine.engine`) builds everything else
on top, the same way for every source, so both topologies give the same words, times and errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from service.config import Settings
    from transcription.pipeline import FeatureHalves, LogitsFn


@dataclass(frozen=True)
class SourceDescription:
    """What a source says about the model it runs (the doors' model cards are built from it)."""

    name: str
    version: int | None
    inputs: dict[str, Any]  # the `logits` signature's inputs: {name: {"dtype", "shape"}}
    outputs: dict[str, Any]
    # How the in-process runtime runs it (engine, threads, batching); None where another server decides that.
    runtime: dict[str, Any] | None = None


class LogitsSource(Protocol):
    """Gives the logits of 16 kHz float32 chunks; every method is safe to await on the event loop."""

    kind: str  # "embedded" or "tfserving", as /v1/models reports it
    # The version that answered the last call, when the server swaps versions itself (TF Serving); else None.
    served_version: int | None

    async def start(self) -> None:
        """Load or connect; `ModelLoadError` / `BackendUnavailableError` if that cannot work."""

    async def close(self) -> None:
        """Release threads, channels and queued calls."""

    def lane(self) -> contextlib.AbstractAsyncContextManager[LogitsFn]:
        """One request's model call; leaving the block drops that request's calls not yet run."""

    async def is_ready(self) -> bool:
        """Whether a call would reach a loaded model now."""

    async def describe(self) -> SourceDescription:
        """The served model's name, version and signature (`BackendUnavailableError` while it loads)."""

    def feature_halves(self) -> FeatureHalves | None:
        """The model's two halves (conv features, logits from features) for a stream's cache; None where the
        runtime has only the whole model."""


def build_source(settings: Settings, on_batch: Callable[[int], None] = lambda size: None) -> LogitsSource:
    """Return the source the settings ask for: TF Serving when `tfserving_address` is set, else in-process."""
    if settings.tfserving.address:
        from engine.sources.tf_serving import TFServingSource

        return TFServingSource(settings)
    from engine.sources.in_process import InProcessSource

    return InProcessSource(settings, on_batch=on_batch)


__all__ = ["LogitsSource", "SourceDescription", "build_source"]
