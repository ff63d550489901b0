"""A WebSocket client of `WS /v1/stream` for bench/streaming.py and the tests: paced frames in, timed events out."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import numpy as np
import websockets


@dataclass
class StreamRun:
    """What a client saw: events with their arrival times (monotonic s), the close, when audio ended."""

    events: list[tuple[float, dict]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    started_at: float = 0.0
    end_sent_at: float = 0.0

    @property
    def finals(self) -> list[dict]:
        return [event for _, event in self.events if event["type"] == "final"]

    @property
    def text(self) -> str:
        return " ".join(final["text"] for final in self.finals if final["text"])


async def stream_audio(
    address: str,
    samples: np.ndarray,
    frame_s: float,
    speed: float = 1.0,
    config: dict | None = None,
    sample_rate_hz: int = 16_000,
) -> StreamRun:
    """Stream 16-bit PCM of `samples` in `frame_s` frames at `speed` x real time, then end; return what came back."""
    run = StreamRun()
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    frame = max(1, int(frame_s * sample_rate_hz))
    async with websockets.connect(f"ws://{address}/v1/stream", max_size=None, ping_interval=None) as ws:

        async def receive() -> None:
            try:
                async for message in ws:
                    run.events.append((time.monotonic(), json.loads(message)))
            except websockets.ConnectionClosed:
                pass

        receiver = asyncio.create_task(receive())
        await ws.send(json.dumps({"type": "config", "sample_rate_hz": sample_rate_hz, **(config or {})}))
        run.started_at = time.monotonic()
        try:
            for index, start in enumerate(range(0, len(pcm), frame)):
                # Paced against the clock, not by sleeping per frame, so 20 ms frames do not drift behind.
                delay_s = run.started_at + index * frame_s / speed - time.monotonic()
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
                await ws.send(pcm[start : start + frame].tobytes())
            delay_s = run.started_at + len(pcm) / sample_rate_hz / speed - time.monotonic()
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            run.end_sent_at = time.monotonic()
            await ws.send(json.dumps({"type": "end"}))
        except websockets.ConnectionClosed:
            pass  # the server ended the stream early: its close code says why
        await asyncio.wait_for(receiver, 120)
        run.close_code, run.close_reason = ws.close_code, ws.close_reason or ""
    return run
