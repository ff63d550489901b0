"""`WS /v1/stream` over the tiny random model: the protocol, and each way a stream ends with its close code."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from service import Settings, create_app
from tests.service.gateway_fixtures import encode, speechlike, upload

CONFIG = {"type": "config", "sample_rate_hz": 16_000, "encoding": "pcm_s16le", "channels": 1}


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def drain(ws) -> tuple[list[dict], int, str]:
    """Return every event until the server closes, and the close code and reason."""
    events: list[dict] = []
    while True:
        try:
            events.append(ws.receive_json())
        except WebSocketDisconnect as close:
            return events, close.code, close.reason


# Three gateways over the tiny model (each startup costs seconds): default limits; tight limits; a single slot.
LIMITS = dict(
    api_keys="k1, k2",
    stream_idle_timeout_s=1.0,
    stream_config_timeout_s=1.0,
    stream_max_duration_s=3.0,
    stream_max_lead_s=2.0,
    stream_max_streams=2,
)


@pytest.fixture(scope="module")
def gateways(make_settings: Callable[..., Settings]):
    clients = {
        "default": TestClient(create_app(make_settings())),
        "limits": TestClient(create_app(make_settings(**LIMITS))),
        "one_slot": TestClient(create_app(make_settings(stream_max_streams=1))),
    }
    for client in clients.values():
        client.__enter__()
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


def test_a_stream_gets_timed_finals_and_closes_normally_after_end_of_audio(gateways) -> None:
    client = gateways["default"]
    audio = speechlike(3.0, 16_000, seed=1)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "encoding": "f32le", "sample_rate_hz": 16_000})
        for start in range(0, len(audio), 1600):
            ws.send_bytes(audio[start : start + 1600].astype("<f4").tobytes())
            time.sleep(0.1)
        ws.send_json({"type": "end"})
        events, code, reason = drain(ws)
    assert code == 1000 and reason == "end of audio"
    finals = [event for event in events if event["type"] == "final"]
    assert {event["type"] for event in events} <= {"partial", "final"}
    assert finals, "random weights still give words; the end of audio must flush them"
    words = [word for final in finals for word in final["words"]]
    assert all(0 <= w["start_s"] < w["end_s"] <= 3.01 and 0 <= w["confidence"] <= 1 for w in words)
    assert [final["segment_id"] for final in finals] == list(range(len(finals)))
    assert all(a["end_s"] <= b["start_s"] for a, b in zip(words, words[1:], strict=False))
    assert all(final["text"] == " ".join(word["text"] for word in final["words"]) for final in finals)


def test_8khz_stereo_frames_are_accepted(gateways) -> None:
    audio = speechlike(1.0, 8_000, channels=2, seed=2)
    with gateways["default"].websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "sample_rate_hz": 8_000, "channels": 2})
        ws.send_bytes(pcm16(audio)[:-1])  # a frame may end mid-sample
        ws.send_bytes(pcm16(audio)[-1:])
        ws.send_json({"type": "end"})
        events, code, _ = drain(ws)
    assert code == 1000 and any(event["type"] == "final" for event in events)


@pytest.mark.parametrize(
    "first_message",
    [b"\x00\x01", '{"type": "config", "encoding": "mp3"}', '{"type": "config", "sample_rate_hz": 1}', "not json"],
)
def test_a_bad_first_message_closes_4400_with_the_reason(gateways, first_message: bytes | str) -> None:
    with gateways["default"].websocket_connect("/v1/stream") as ws:
        ws.send_bytes(first_message) if isinstance(first_message, bytes) else ws.send_text(first_message)
        events, code, reason = drain(ws)
    assert code == 4400 and reason == "invalid_stream_message"
    assert events[-1]["type"] == "error" and events[-1]["error"]["code"] == "invalid_stream_message"


def test_a_bad_config_names_the_field_and_the_allowed_values(gateways) -> None:
    with gateways["default"].websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "encoding": "mp3"})
        events, code, _ = drain(ws)
    message = events[-1]["error"]["message"]
    assert code == 4400 and "validation error" not in message
    assert message == "invalid StreamConfig message: encoding: Input should be 'pcm_s16le' or 'f32le'"


def test_a_deeply_nested_config_is_refused_4400_not_an_internal_error(gateways, caplog) -> None:
    with gateways["default"].websocket_connect("/v1/stream") as ws:
        ws.send_text('{"type": "config", "channels": ' + "[" * 100_000 + "]" * 100_000 + "}")
        events, code, reason = drain(ws)
    assert (code, reason) == (4400, "invalid_stream_message")
    assert events[-1]["error"]["message"] == "the StreamConfig message is nested too deeply"
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_connections_without_a_key_take_no_stream_slot(gateways) -> None:
    client = gateways["limits"]  # two slots
    with (
        client.websocket_connect("/v1/stream") as silent_1,
        client.websocket_connect("/v1/stream") as silent_2,
        client.websocket_connect("/v1/stream", headers={"Authorization": "Bearer wrong"}) as wrong_key,
    ):
        wrong_key.send_json(CONFIG)
        with client.websocket_connect("/v1/stream") as keyed:  # three keyless connections are open meanwhile
            keyed.send_json({**CONFIG, "api_key": "k1"})
            keyed.send_json({"type": "end"})
            assert drain(keyed)[1] == 1000
        for silent in (silent_1, silent_2):  # they never sent a config: closed after ASR_STREAM_CONFIG_TIMEOUT_S
            events, code, reason = drain(silent)
            assert (code, reason) == (4408, "stream_idle_timeout")
            assert events[-1]["error"]["message"] == "no config message within 1 s"
        assert drain(wrong_key)[1] == 4401


def test_api_keys_are_checked_in_the_config_or_the_bearer_header(gateways) -> None:
    client = gateways["limits"]
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "api_key": "wrong"})
        events, code, _ = drain(ws)
    assert code == 4401 and events[-1]["error"]["code"] == "invalid_api_key"
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "api_key": "k2"})
        ws.send_json({"type": "end"})
        assert drain(ws)[1] == 1000
    with client.websocket_connect("/v1/stream", headers={"Authorization": "Bearer k1"}) as ws:
        ws.send_json(CONFIG)
        ws.send_json({"type": "end"})
        assert drain(ws)[1] == 1000


def test_one_stream_too_many_is_closed_1013_and_the_open_one_carries_on(gateways) -> None:
    client = gateways["one_slot"]
    with client.websocket_connect("/v1/stream") as first:
        first.send_json(CONFIG)
        first.send_bytes(pcm16(speechlike(0.5, 16_000)))
        with client.websocket_connect("/v1/stream") as second:
            second.send_json(CONFIG)  # the slot is taken once the config (and its key) has come
            events, code, reason = drain(second)
        assert code == 1013 and reason == "too_many_streams"
        first.send_json({"type": "end"})
        assert drain(first)[1] == 1000
    with client.websocket_connect("/v1/stream") as third:  # the slot was given back
        third.send_json(CONFIG)
        third.send_json({"type": "end"})
        assert drain(third)[1] == 1000


def test_a_silent_client_is_closed_4408_after_the_idle_timeout(gateways) -> None:
    with gateways["limits"].websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "api_key": "k1"})
        ws.send_bytes(pcm16(speechlike(0.2, 16_000)))
        started = time.monotonic()
        events, code, reason = drain(ws)
    assert code == 4408 and reason == "stream_idle_timeout"
    assert time.monotonic() - started < 5


def test_a_client_that_never_ends_is_flushed_and_closed_4413_at_the_duration_cap(gateways) -> None:
    audio = speechlike(5.0, 16_000, seed=3)
    with gateways["limits"].websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "api_key": "k1"})
        for start in range(0, len(audio), 3200):  # 0.2 s frames at real time, past the cap
            ws.send_bytes(pcm16(audio[start : start + 3200]))
            time.sleep(0.2)
        events, code, reason = drain(ws)
    assert code == 4413 and reason == "stream_too_long"
    assert events[-1]["type"] == "error"
    assert any(event["type"] == "final" for event in events[:-1]), "what came before the cap is delivered"


def test_a_client_sending_far_faster_than_real_time_is_closed_4429(gateways) -> None:
    with gateways["limits"].websocket_connect("/v1/stream") as ws:
        ws.send_json({**CONFIG, "api_key": "k1"})
        for _ in range(10):
            ws.send_bytes(pcm16(speechlike(1.0, 16_000)))  # 10 s of audio at once
        events, code, reason = drain(ws)
    assert code == 4429 and reason == "audio_faster_than_real_time"


def test_through_tf_serving_or_embedded_a_single_window_stream_equals_the_offline_transcript(
    model_base_path, make_settings: Callable[..., Settings]
) -> None:
    """With a hop longer than the audio the one decode is the end-of-audio flush: exactly the offline decode."""
    from tests.support.tfserving_standin import StandInServer

    audio = speechlike(2.5, 16_000, seed=4)
    wav = encode(audio, 16_000)
    server = StandInServer(model_base_path, "tiny", port=0)
    try:
        for backend in ({}, {"tfserving_address": server.address, "grpc_timeout_s": 10.0}):
            with TestClient(create_app(make_settings(stream_hop_s=100.0, **backend))) as gateway:
                offline = gateway.post("/v1/transcribe", files=upload(wav)).json()["text"]
                with gateway.websocket_connect("/v1/stream") as ws:
                    ws.send_json(CONFIG)
                    ws.send_bytes(pcm16(audio))
                    ws.send_json({"type": "end"})
                    events, code, _ = drain(ws)
            assert code == 1000
            streamed = " ".join(event["text"] for event in events if event["type"] == "final")
            assert streamed == offline and offline, backend
    finally:
        server.stop()
