"""Admission: a request is taken or refused as a whole, by the number of requests and the audio they hold.

Refusing a request before its work starts (TF Serving's bounded batching queue, sherpa-onnx's 503 when full) is
what keeps a long upload from taking the model away from short ones chunk by chunk: once admitted, a request's
chunks are served round-robin with the others' (`engine.batching`), and every admitted request finishes. The
audio budget bounds memory: an admitted request holds its decoded audio (16 kHz float32: 230 MB per hour) until it
is answered, so the sum of admitted audio is what the requests in flight hold.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from engine.errors import QueueFullError


class RequestAdmission:
    """Counts admitted requests and their audio seconds; `admit` refuses past either limit with `QueueFullError`."""

    def __init__(self, max_requests: int, max_audio_s: float) -> None:
        self.max_requests = max_requests
        self.max_audio_s = max_audio_s
        self.requests = 0
        self.audio_s = 0.0

    @contextlib.contextmanager
    def admit(self, duration_s: float) -> Iterator[None]:
        """Hold a place for a request of `duration_s` seconds of audio while the block runs.

        A request longer than the whole audio budget is still admitted when nothing else is: a file within
        ASR_MAX_DURATION_H is never refused forever, it waits for the server to be idle.
        """
        self.check(duration_s)
        self.requests += 1
        self.audio_s += duration_s
        try:
            yield
        finally:
            self.requests -= 1
            self.audio_s -= duration_s

    def check(self, duration_s: float) -> None:
        """Raise `QueueFullError` if a request of `duration_s` seconds would be refused now."""
        if self.requests >= self.max_requests:
            raise QueueFullError(f"the server is busy: {self.requests} requests are already being transcribed")
        if self.requests and self.audio_s + duration_s > self.max_audio_s:
            raise QueueFullError(
                f"the server is busy: the requests being transcribed hold {self.audio_s / 60:.1f} min of audio, "
                f"and {duration_s / 60:.1f} min more would pass the {self.max_audio_s / 60:g} min budget"
            )
