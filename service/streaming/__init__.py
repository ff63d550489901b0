"""Streaming recognition: re-decode a sliding window of live audio, finalise segments at pauses.

Independent of any transport: `service.api.routes.stream` (WebSocket) and `service.wyoming` (Home Assistant's
protocol) both drive a `StreamSession`.
"""

from service.streaming.pcm import PcmConverter
from service.streaming.session import Final, Partial, StreamResult, StreamSession
from service.streaming.window import SlidingWindow, TranscribeFn, WindowPolicy, choose_cut

__all__ = [
    "Final",
    "Partial",
    "PcmConverter",
    "SlidingWindow",
    "StreamResult",
    "StreamSession",
    "TranscribeFn",
    "WindowPolicy",
    "choose_cut",
]
