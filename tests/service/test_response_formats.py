"""Every `response_format` of `/v1/transcribe` over the real tiny export: one transcript, five faithful renderings."""

from __future__ import annotations

import datetime
import html

import pytest
import srt
import webvtt
from openai.types.audio import TranscriptionSegment, TranscriptionVerbose

from tests.service.gateway_fixtures import encode, speechlike, upload

DURATION_S = 4.0


@pytest.fixture(scope="module")
def clip() -> bytes:
    return encode(speechlike(DURATION_S, 22_050, seed=31), 22_050)


@pytest.fixture(scope="module")
def as_json(client, clip) -> dict:
    response = client.post("/v1/transcribe", files=upload(clip))
    assert response.status_code == 200, response.text
    return response.json()


def _post(client, clip: bytes, response_format: str, **params: str):
    response = client.post("/v1/transcribe", params={"response_format": response_format, **params}, files=upload(clip))
    assert response.status_code == 200, response.text
    return response


def test_json_has_todays_fields_words_segments_and_the_decoder(as_json):
    assert set(as_json) >= {"text", "duration_s", "model", "processing_ms", "source_sample_rate_hz", "source_channels"}
    assert as_json["decoder"] == "greedy"  # the tiny export has no language model
    assert as_json["duration_s"] == pytest.approx(DURATION_S, abs=1e-3)
    words, segments = as_json["words"], as_json["segments"]
    assert words and segments  # random weights emit characters for this audio
    assert " ".join(word["text"] for word in words) == as_json["text"]
    assert " ".join(segment["text"] for segment in segments) == as_json["text"]
    assert [segment["id"] for segment in segments] == list(range(len(segments)))


def test_word_times_are_monotonic_and_inside_the_audio(as_json):
    words = as_json["words"]
    assert all(0.0 <= w["start_s"] <= w["end_s"] <= DURATION_S + 1e-3 for w in words)
    assert all(a["end_s"] <= b["start_s"] + 1e-3 for a, b in zip(words, words[1:], strict=False))
    assert all(0.0 <= w["confidence"] <= 1.0 for w in words)


def test_text_is_the_json_text(client, clip, as_json):
    response = _post(client, clip, "text")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == as_json["text"]


def test_verbose_json_validates_as_openais_type_and_names_the_decoder(client, clip, as_json):
    body = _post(client, clip, "verbose_json").json()
    verbose = TranscriptionVerbose.model_validate(body)
    assert set(body) - set(TranscriptionVerbose.model_fields) == {"decoder"}
    assert body["decoder"] == "greedy"
    assert all(set(segment) == set(TranscriptionSegment.model_fields) for segment in body["segments"])
    assert verbose.text == as_json["text"] and verbose.duration == pytest.approx(DURATION_S, abs=1e-3)
    assert verbose.usage is not None and verbose.usage.seconds == verbose.duration
    assert [(w.word, w.start, w.end) for w in verbose.words] == [
        (w["text"], w["start_s"], w["end_s"]) for w in as_json["words"]
    ]
    assert [(s.start, s.end, s.text) for s in verbose.segments] == [
        (s["start_s"], s["end_s"], s["text"]) for s in as_json["segments"]
    ]


def test_srt_parses_into_the_segments(client, clip, as_json):
    response = _post(client, clip, "srt")
    assert response.headers["content-type"] == "application/x-subrip; charset=utf-8"
    cues = list(srt.parse(response.text))
    assert [cue.content for cue in cues] == [segment["text"] for segment in as_json["segments"]]
    assert [cue.start for cue in cues] == [
        datetime.timedelta(seconds=segment["start_s"]) for segment in as_json["segments"]
    ]


def _vtt_seconds(timestamp: str) -> float:
    hours, minutes, seconds = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_vtt_parses_into_the_segments(client, clip, as_json):
    response = _post(client, clip, "vtt")
    assert response.headers["content-type"] == "text/vtt; charset=utf-8"
    cues = list(webvtt.from_string(response.text, strict=True))
    # What a player shows: WebVTT escapes <, > and & (the random model emits "</s>" tokens as characters).
    assert [html.unescape(cue.text) for cue in cues] == [segment["text"] for segment in as_json["segments"]]
    assert [_vtt_seconds(cue.end) for cue in cues] == pytest.approx([s["end_s"] for s in as_json["segments"]], abs=1e-3)


@pytest.mark.parametrize("response_format", ["json", "text", "verbose_json", "srt", "vtt"])
def test_every_format_names_its_decoder_in_a_header(client, clip, response_format):
    assert _post(client, clip, response_format).headers["x-asr-decoder"] == "greedy"


def test_decoder_query_is_passed_to_the_backend(client, clip, as_json):
    greedy = _post(client, clip, "json", decoder="greedy").json()
    assert (greedy["decoder"], greedy["text"]) == ("greedy", as_json["text"])
    response = client.post("/v1/transcribe", params={"decoder": "lm"}, files=upload(clip))
    assert response.status_code == 422  # no language model is configured for the tiny export
    assert "lm" in response.json()["error"]["message"]


def test_an_unknown_format_is_a_validation_error(client, clip):
    response = client.post("/v1/transcribe", params={"response_format": "tsv"}, files=upload(clip))
    assert response.status_code == 422
    assert "response_format" in response.json()["error"]["message"]


def test_batch_verbose_json_and_text(client, clip):
    other = encode(speechlike(1.5, 16_000, seed=32), 16_000)
    files = [("file", ("a.wav", clip)), ("file", ("b.wav", other))]
    singles = [client.post("/v1/transcribe", files=upload(data)).json()["text"] for data in (clip, other)]
    verbose = client.post("/v1/transcribe/batch", params={"response_format": "verbose_json"}, files=files)
    assert verbose.status_code == 200, verbose.text
    results = verbose.json()["results"]
    assert [TranscriptionVerbose.model_validate(result).text for result in results] == singles
    assert all(result["decoder"] == "greedy" for result in results)
    text = client.post("/v1/transcribe/batch", params={"response_format": "text"}, files=files)
    assert text.text.split("\n") == singles
    as_json = client.post("/v1/transcribe/batch", files=files).json()["results"]
    assert [(result["text"], result["decoder"]) for result in as_json] == [(s, "greedy") for s in singles]
    assert all(result["words"] for result in as_json)


@pytest.mark.parametrize("response_format", ["srt", "vtt"])
def test_batch_refuses_subtitles_with_a_clear_422(client, clip, response_format):
    response = client.post(
        "/v1/transcribe/batch", params={"response_format": response_format}, files=[("file", ("a.wav", clip))]
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message.startswith(f"query.response_format: {response_format} is a subtitle file for one audio file")
    assert "/v1/transcribe" in message
