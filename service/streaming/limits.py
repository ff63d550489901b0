"""What the settings allow a stream: its window policy, and how many streams may be open at once."""

from __future__ import annotations

from service.core.config import MODEL_SAMPLE_RATE_HZ, Settings
from service.core.errors import TooManyStreamsError
from service.streaming.window import WindowPolicy


def window_policy(settings: Settings) -> WindowPolicy:
    """Return the sliding-window policy the settings describe."""
    return WindowPolicy(
        sample_rate_hz=MODEL_SAMPLE_RATE_HZ,
        hop_s=settings.stream_hop_s,
        left_context_s=settings.stream_left_context_s,
        right_context_s=settings.stream_right_context_s,
        pause_s=settings.stream_pause_s,
        max_segment_s=settings.stream_max_segment_s,
    )


class StreamSlots:
    """Counts open streams against a cap; one per process, shared by every transport."""

    def __init__(self, max_streams: int) -> None:
        self.max_streams = max_streams
        self.open = 0

    def acquire(self) -> None:
        """Take a slot, or raise `TooManyStreamsError`."""
        if self.open >= self.max_streams:
            raise TooManyStreamsError(f"{self.max_streams} streams are already open; retry later")
        self.open += 1

    def release(self) -> None:
        self.open -= 1
