"""Several models behind one gateway, chosen per request through each door, each answering as it does alone.

The bundled demo model (default, with its language model) and a random tiny export (greedy) run side by side;
every door names one with its own field: `?model=` on /v1/transcribe, OpenAI's `model` (the `openai` SDK),
the WebSocket config's `model` (`websockets`), Wyoming's `transcribe` event's `name` (the `wyoming` client).
Each transcript must equal the one a gateway serving that model alone gives, and an unknown name is a 404 in
each door's own error shape.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
import soundfile as sf
from wyoming.asr import Transcribe
from wyoming.error import Error

from bench.live_server import serve
from bench.stream_client import stream_audio
from service import create_app
from service.config import BUNDLED_MODEL_PATH
from tests.service.wyoming_client import read_until_closed, transcribe_like_home_assistant, wyoming_server

FIXTURE = Path(__file__).parents[1] / "fixtures" / "fsdd" / "3_jackson_0.wav"
DOORS_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def settings(make_settings, model_base_path):
    """Both models ("demo" the default, "tiny"), and each model alone."""
    return {
        "both": make_settings(model_path=BUNDLED_MODEL_PATH, model_name="demo", models={"tiny": str(model_base_path)}),
        "demo": make_settings(model_path=BUNDLED_MODEL_PATH, model_name="demo"),
        "tiny": make_settings(model_name="tiny"),
    }


@pytest.fixture(scope="module")
def gateways(settings):
    """A live gateway for each of `settings`."""
    apps = {name: create_app(settings[name]) for name in ("both", "demo", "tiny")}
    with serve(apps["both"]) as both, serve(apps["demo"]) as demo, serve(apps["tiny"]) as tiny:
        yield {"both": both, "demo": demo, "tiny": tiny}


@pytest.fixture(scope="module")
def clip() -> bytes:
    return FIXTURE.read_bytes()


def _transcribe(url: str, clip: bytes, **params: str) -> dict:
    response = httpx.post(
        f"{url}/v1/transcribe", params=params, files={"file": ("a.wav", clip)}, timeout=DOORS_TIMEOUT_S
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_models_lists_every_model_the_default_first(gateways):
    listed = httpx.get(f"{gateways['both']}/v1/models").json()["data"]
    assert [model["id"] for model in listed] == ["demo", "tiny"]
    assert [model["decoder"] for model in listed] == ["lm", "greedy"]  # each its own LM and decoder default
    sdk = openai.OpenAI(base_url=f"{gateways['both']}/v1", api_key="-")
    assert [model.id for model in sdk.models.list()] == ["demo", "tiny"]


@pytest.mark.parametrize("name", ["demo", "tiny"])
def test_transcribe_route_picks_the_model_by_query_parameter(gateways, clip, name):
    alone = _transcribe(gateways[name], clip)
    chosen = _transcribe(gateways["both"], clip, model=name)
    assert (chosen["model"], chosen["decoder"]) == (name, alone["decoder"])
    assert chosen["text"] == alone["text"] and chosen["words"] == alone["words"]
    if name == "demo":  # naming none is naming the default
        assert _transcribe(gateways["both"], clip)["words"] == alone["words"]


@pytest.mark.parametrize("name", ["demo", "tiny"])
def test_openai_route_picks_the_model_by_its_model_field(gateways, clip, name):
    def create(url: str) -> openai.types.audio.TranscriptionVerbose:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="-", max_retries=0, timeout=DOORS_TIMEOUT_S)
        return client.audio.transcriptions.create(
            model=name, file=("a.wav", clip), response_format="verbose_json", timestamp_granularities=["word"]
        )

    alone, chosen = create(gateways[name]), create(gateways["both"])
    assert chosen.text == alone.text
    assert [(w.word, w.start, w.end) for w in chosen.words] == [(w.word, w.start, w.end) for w in alone.words]


@pytest.mark.parametrize("name", ["demo", "tiny"])
def test_websocket_picks_the_model_by_its_config(gateways, name):
    samples, rate = sf.read(FIXTURE, dtype="float32")

    def stream(url: str) -> list[dict]:
        address = url.removeprefix("http://")
        run = asyncio.run(stream_audio(address, samples, 0.1, speed=4.0, config={"model": name}, sample_rate_hz=rate))
        assert run.close_code == 1000, run.close_reason
        return run.finals

    assert stream(gateways["both"]) == stream(gateways[name])


def test_an_unknown_model_is_a_404_in_each_doors_shape(gateways, clip):
    url = gateways["both"]
    response = httpx.post(f"{url}/v1/transcribe", params={"model": "de"}, files={"file": ("a.wav", clip)})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found" and "`demo`, `tiny`" in error["message"]

    client = openai.OpenAI(base_url=f"{url}/v1", api_key="-", max_retries=0)
    with pytest.raises(openai.NotFoundError) as raised:
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", clip))
    assert raised.value.body["code"] == "model_not_found" and raised.value.body["param"] == "model"

    silence = np.zeros(1600, np.float32)
    run = asyncio.run(stream_audio(url.removeprefix("http://"), silence, 0.1, speed=10.0, config={"model": "de"}))
    assert run.close_code == 4404
    assert [event["error"]["code"] for _, event in run.events if event["type"] == "error"] == ["model_not_found"]


def test_wyoming_picks_the_model_by_the_transcribe_events_name(settings):
    from wyoming.client import AsyncTcpClient
    from wyoming.info import Describe, Info

    samples, rate = sf.read(FIXTURE, dtype="int16")

    async def scenario() -> None:
        async with wyoming_server(settings["both"]) as both:
            async with AsyncTcpClient("127.0.0.1", both) as client:
                await client.write_event(Describe().event())
                (program,) = Info.from_event(await asyncio.wait_for(client.read_event(), 10)).asr
            assert [model.name for model in program.models] == ["demo", "tiny"]
            for name in ("demo", "tiny"):
                async with wyoming_server(settings[name]) as alone:
                    expected, _, _ = await transcribe_like_home_assistant(alone, samples.tobytes(), rate)
                chosen, _, _ = await transcribe_like_home_assistant(both, samples.tobytes(), rate, model=name)
                assert chosen == expected, name
            async with AsyncTcpClient("127.0.0.1", both) as client:
                await client.write_event(Transcribe(name="de").event())
                (error,) = await read_until_closed(client)
            assert Error.from_event(error).code == "model_not_found"

    asyncio.run(scenario())
