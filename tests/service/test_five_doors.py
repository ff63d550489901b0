"""Five doors, one engine: the same file and decoder give the same words at the same times through `asr
transcribe --json`, `POST /v1/transcribe`, the OpenAI route, `WS /v1/stream` and Wyoming (docs/architecture.md).

The bundled demo model and a festival sentence, decoded greedily: the only decoder every door can be asked for
(OpenAI's route and Wyoming take the model's default, set here with ASR_DECODER=greedy). The sentence is shorter
than one stream window and reaches the WebSocket in one frame followed by `end`, so every decode of the stream
sees the whole sentence from its start, as the offline decode does: docs/streaming.md promises equal finals then.
Wyoming's transcript event carries text only, so it is held to the words.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import openai
import pytest
import soundfile

from bench.live_server import serve
from bench.stream_client import stream_audio
from cli.main import main as asr
from service import Settings, create_app
from tests.service.wyoming_client import transcribe_like_home_assistant, wyoming_server

SENTENCE = Path(__file__).resolve().parents[1] / "fixtures" / "festival" / "eval_festival-festival-007902.wav"


def timed(words: list[dict], text: str = "text", start: str = "start_s", end: str = "end_s") -> list[tuple]:
    """Returns each word as (text, start, end), whatever a door calls the fields."""
    return [(word[text], word[start], word[end]) for word in words]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(decoder="greedy")


@pytest.fixture(scope="module")
def http_doors(settings: Settings) -> dict[str, list[tuple]]:
    """The words of the sentence through the three doors of one live gateway: upload, OpenAI, WebSocket."""
    audio, rate_hz = soundfile.read(SENTENCE, dtype="float32")
    with serve(create_app(settings)) as url:
        ours = httpx.post(
            f"{url}/v1/transcribe", params={"decoder": "greedy"}, files={"file": SENTENCE.read_bytes()}, timeout=60
        )
        assert ours.status_code == 200, ours.text
        sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60)
        verbose = sdk.audio.transcriptions.create(
            model=settings.model.name,
            file=SENTENCE.open("rb"),
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
        duration_s = len(audio) / rate_hz
        streamed = asyncio.run(
            stream_audio(url.removeprefix("http://"), audio, frame_s=duration_s, config={"decoder": "greedy"})
        )
    assert streamed.close_code == 1000, streamed.close_reason
    return {
        "upload": timed(ours.json()["words"]),
        "openai": timed([word.model_dump() for word in verbose.words], "word", "start", "end"),
        "stream": timed([word for final in streamed.finals for word in final["words"]]),
    }


def test_every_door_gives_the_same_timed_words(settings, http_doors, capsys) -> None:
    assert asr(["transcribe", str(SENTENCE), "--json", "--no-lm"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    cli = timed(json.loads(line)["words"])
    assert cli, "the demo model heard no words"

    async def wyoming() -> str:
        async with wyoming_server(settings) as port:
            text, _, _ = await transcribe_like_home_assistant(
                port, soundfile.read(SENTENCE, dtype="int16")[0].tobytes(), 16_000
            )
            return text

    assert http_doors == {"upload": cli, "openai": cli, "stream": cli}
    assert asyncio.run(wyoming()) == " ".join(word for word, _, _ in cli)
