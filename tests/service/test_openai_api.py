"""`/v1/audio/transcriptions` driven by the official `openai` SDK against a real uvicorn server over the tiny
export: every response format, word and segment granularities, streaming, errors, and `/v1/models`."""

from __future__ import annotations

import html
import io

import httpx
import openai
import pytest
import srt
import webvtt

from bench.live_server import serve
from service import create_app
from tests.service.gateway_fixtures import encode, speechlike

KEY = "sk-gateway-test-5e1d"


@pytest.fixture(scope="module")
def base_url(make_settings):
    """The gateway with an API key, on a real socket; the chunk size is small so long audio has several chunks."""
    settings = make_settings(api_keys=[KEY], max_duration_h=30.0 / 3600, chunk_s=6.0, chunk_context_s=1.0)
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def sdk(base_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=KEY, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def clip() -> bytes:
    return encode(speechlike(2.5, 16_000, seed=21), 16_000)


@pytest.fixture(scope="module")
def reference(base_url, clip) -> dict:
    """What our own `/v1/transcribe` says about the clip: the OpenAI route must agree with it."""
    response = httpx.post(
        f"{base_url}/v1/transcribe",
        files={"file": ("clip.wav", clip, "audio/wav")},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _file(data: bytes) -> tuple[str, io.BytesIO, str]:
    return ("clip.wav", io.BytesIO(data), "audio/wav")


def test_json_is_the_same_transcript_as_our_own_route(sdk, clip, reference):
    result = sdk.audio.transcriptions.create(model="tiny", file=_file(clip))
    assert reference["text"]
    assert result.text == reference["text"]
    assert result.usage.type == "duration" and result.usage.seconds == pytest.approx(2.5, abs=0.01)


def test_text_srt_and_vtt(sdk, clip, reference):
    text = sdk.audio.transcriptions.create(model="tiny", file=_file(clip), response_format="text")
    assert text == reference["text"]
    subtitles = sdk.audio.transcriptions.create(model="tiny", file=_file(clip), response_format="srt")
    cues = list(srt.parse(subtitles))
    assert " ".join(cue.content for cue in cues).split() == reference["text"].split()
    assert cues[-1].end.total_seconds() <= 2.5 + 1e-3
    captions = sdk.audio.transcriptions.create(model="tiny", file=_file(clip), response_format="vtt")
    assert captions.startswith("WEBVTT")
    parsed = webvtt.from_buffer(io.StringIO(captions))
    # WebVTT escapes `<` and `&` in cue text (the tiny model's random text has `<unk>`); unescaped, it is the text.
    assert " ".join(html.unescape(caption.text) for caption in parsed).split() == reference["text"].split()


def test_verbose_json_with_word_and_segment_granularities(sdk, clip, reference):
    result = sdk.audio.transcriptions.create(
        model="tiny",
        file=_file(clip),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert result.text == reference["text"]
    assert result.duration == pytest.approx(2.5, abs=0.01)
    assert result.language == "english"
    assert [word.word for word in result.words] == reference["text"].split()
    assert all(0 <= w.start <= w.end <= 2.5 + 1e-3 for w in result.words)
    assert [w.start for w in result.words] == sorted(w.start for w in result.words)
    assert " ".join(segment.text for segment in result.segments).split() == reference["text"].split()
    assert result.usage.seconds == pytest.approx(2.5, abs=0.01)


def test_verbose_json_lists_only_the_granularities_asked_for(sdk, clip):
    words_only = sdk.audio.transcriptions.create(
        model="tiny", file=_file(clip), response_format="verbose_json", timestamp_granularities=["word"]
    )
    assert words_only.words and not words_only.segments
    default = sdk.audio.transcriptions.create(model="tiny", file=_file(clip), response_format="verbose_json")
    assert default.segments and not default.words


def test_streaming_sends_deltas_chunk_by_chunk_then_done(sdk, base_url):
    # Long enough for several model chunks: text arrives before the whole file is done.
    long_clip = encode(speechlike(25.0, 16_000, seed=22), 16_000)
    reference = httpx.post(
        f"{base_url}/v1/transcribe",
        files={"file": ("long.wav", long_clip, "audio/wav")},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=120,
    ).json()["text"]
    events = list(sdk.audio.transcriptions.create(model="tiny", file=_file(long_clip), stream=True))
    types = [event.type for event in events]
    assert types[-1] == "transcript.text.done" and set(types[:-1]) == {"transcript.text.delta"}
    assert len(types) - 1 >= 2, "25 s of audio should arrive in more than one chunk"
    assert "".join(event.delta for event in events[:-1]) == events[-1].text == reference


def test_unknown_model_is_a_404_in_openais_shape(sdk, clip):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.audio.transcriptions.create(model="whisper-1", file=_file(clip))
    error = raised.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert error["type"] == "invalid_request_error" and "tiny" in error["message"]


@pytest.mark.parametrize(
    ("arguments", "param"),
    [
        ({"language": "fr"}, "language"),
        ({"response_format": "json", "timestamp_granularities": ["word"]}, "timestamp_granularities"),
        ({"response_format": "srt", "stream": True}, "stream"),
    ],
)
def test_fields_we_cannot_honour_are_refused_by_name(sdk, clip, arguments, param):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.audio.transcriptions.create(model="tiny", file=_file(clip), **arguments)
    assert raised.value.body["param"] == param


def test_fields_we_ignore_harmlessly_are_accepted(sdk, clip, reference):
    result = sdk.audio.transcriptions.create(
        model="tiny", file=_file(clip), language="en", prompt="Names: Zyx.", temperature=0.4
    )
    assert result.text == reference["text"]


def test_bad_audio_and_wrong_key_in_openais_shape(sdk, base_url):
    with pytest.raises(openai.APIStatusError) as raised:
        sdk.audio.transcriptions.create(model="tiny", file=("x.wav", io.BytesIO(b"RIFF" + b"\0" * 40), "audio/wav"))
    assert raised.value.status_code == 415
    assert raised.value.body == {
        "message": raised.value.body["message"],
        "type": "invalid_request_error",
        "param": "file",
        "code": "unsupported_media_type",
    }
    stranger = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.models.list()


def test_models_list_for_the_sdk_and_for_our_clients(sdk, base_url):
    (model,) = sdk.models.list().data
    assert model.id == "tiny" and model.object == "model" and model.owned_by
    assert model.created > 1_700_000_000
    body = httpx.get(f"{base_url}/v1/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert body["data"][0]["sample_rate_hz"] == 16_000
