"""`asr wyoming` with the `wyoming` package's own client, the way Home Assistant talks to it, on the demo model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from service import Settings, create_app
from tests.service.wyoming_client import transcribe_like_home_assistant, wyoming_server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SENTENCE = FIXTURES / "festival" / "eval_festival-festival-007906.wav"  # 16 kHz
DIGIT = FIXTURES / "fsdd" / "7_jackson_0.wav"  # 8 kHz: resampled chunk by chunk
SETTINGS = Settings(model_name="demo", language="english")


@pytest.fixture(scope="module")
def http_transcripts() -> dict[Path, str]:
    """The gateway's offline transcript of each file (same model, same default decoder)."""
    with TestClient(create_app(SETTINGS)) as client:
        return {
            path: client.post("/v1/transcribe", files={"file": (path.name, path.read_bytes())}).json()["text"]
            for path in (SENTENCE, DIGIT)
        }


def test_home_assistant_gets_info_and_the_same_transcript_as_http(http_transcripts: dict[Path, str]) -> None:
    async def scenario() -> None:
        async with wyoming_server(SETTINGS) as port:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                info = Info.from_event(await asyncio.wait_for(client.read_event(), 10))
            (program,) = info.asr
            assert program.supports_transcript_streaming
            assert [(model.name, model.languages) for model in program.models] == [("demo", ["en"])]

            for path in (SENTENCE, DIGIT):
                samples, rate = soundfile.read(path, dtype="int16")
                text, chunks, types = await transcribe_like_home_assistant(port, samples.tobytes(), rate)
                assert text and text == http_transcripts[path], path.name
                assert "".join(chunks) == text
                assert types[0] == "transcript-start" and types[-2:] == ["transcript", "transcript-stop"]

            # 32-bit stereo, each channel half the signal: converted to 16-bit mono it is the file again.
            samples, rate = soundfile.read(DIGIT, dtype="int16")
            half = (samples.astype(np.int32) << 16) // 2
            stereo = np.stack([half, half], axis=1).astype("<i4").tobytes()
            text, _, _ = await transcribe_like_home_assistant(port, stereo, rate, width=4, channels=2)
            assert text == http_transcripts[DIGIT]

            # audio-stop with no audio: an empty transcript, as wyoming-faster-whisper answers.
            text, chunks, _ = await transcribe_like_home_assistant(port, b"", 16_000)
            assert text == "" and chunks == []

    asyncio.run(scenario())
