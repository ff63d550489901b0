"""The HTTP API over the embedded backend and a real tiny export: good uploads, bad uploads, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
import soxr
import tensorflow as tf
from fastapi.testclient import TestClient

from engine.errors import ModelLoadError
from engine.model_client import SavedModelClient
from service import create_app
from tests.service.gateway_fixtures import encode, speechlike, upload


@pytest.fixture(scope="module")
def transcriber(model_base_path) -> Callable[[np.ndarray], str]:
    """The bare model call the gateway must agree with: the graph's own greedy transcript (serving_default)."""
    loaded = tf.saved_model.load(str(SavedModelClient(model_base_path).model_dir.path))

    def transcribe(samples: np.ndarray) -> str:
        outputs = loaded.signatures["serving_default"](
            audio=tf.constant(samples[None]), audio_length=tf.constant([len(samples)], tf.int32)
        )
        return outputs["transcript"].numpy()[0].decode("utf-8")

    return transcribe


@pytest.mark.parametrize(
    ("format", "subtype", "rate_hz", "channels", "filename"),
    [
        ("WAV", "PCM_16", 16_000, 1, "a.wav"),
        ("WAV", "PCM_16", 8_000, 2, "a.wav"),
        ("FLAC", "PCM_24", 44_100, 1, "a.flac"),
        ("OGG", "VORBIS", 22_050, 2, "a.ogg"),
        ("OGG", "OPUS", 48_000, 1, "a.opus"),
        ("MP3", "MPEG_LAYER_III", 44_100, 2, "a.mp3"),
    ],
)
def test_supported_formats_are_transcribed(client, format, subtype, rate_hz, channels, filename):
    response = client.post(
        "/v1/transcribe", files=upload(encode(speechlike(1.2, rate_hz, channels), rate_hz, format, subtype), filename)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"]  # the random tiny model always emits characters for this audio
    assert body["duration_s"] == pytest.approx(1.2, abs=0.06)
    assert body["model"] == "tiny"
    assert body["processing_ms"] > 0
    assert (body["source_sample_rate_hz"], body["source_channels"]) == (rate_hz, channels)


def test_transcript_equals_the_bare_model_on_the_resampled_audio(client, transcriber):
    stereo_8k = speechlike(1.5, 8_000, channels=2, seed=3)
    response = client.post("/v1/transcribe", files=upload(encode(stereo_8k, 8_000, "WAV", "FLOAT")))
    expected_input = soxr.resample(stereo_8k.mean(axis=1), 8_000, 16_000, quality="HQ").astype(np.float32)
    assert response.json()["text"] == transcriber(expected_input)


def test_text_response_format(client):
    data = encode(speechlike(1.0, 16_000, seed=4), 16_000)
    as_json = client.post("/v1/transcribe", files=upload(data)).json()
    as_text = client.post("/v1/transcribe", params={"response_format": "text"}, files=upload(data))
    assert as_text.headers["content-type"].startswith("text/plain")
    assert as_text.text == as_json["text"]


def test_several_files_in_one_request(client):
    clips = [encode(speechlike(0.5 + i * 0.4, 16_000, seed=10 + i), 16_000) for i in range(3)]
    singles = [client.post("/v1/transcribe", files=upload(clip)).json()["text"] for clip in clips]
    response = client.post("/v1/transcribe/batch", files=[("file", (f"{i}.wav", clip)) for i, clip in enumerate(clips)])
    assert response.status_code == 200, response.text
    assert [result["text"] for result in response.json()["results"]] == singles


def _nan_wav() -> bytes:
    samples = speechlike(0.5, 16_000)
    samples[10] = np.nan
    return encode(samples, 16_000, "WAV", "FLOAT")


def _truncated_flac() -> bytes:
    data = encode(speechlike(2.0, 16_000), 16_000, "FLAC")
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "empty_upload"),
        (b"just some text, definitely not audio\n" * 10, 415, "unsupported_media_type"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), 415, "unsupported_media_type"),
        (_truncated_flac(), 422, "audio_decode_error"),
        (encode(np.zeros(0, dtype=np.float32), 16_000), 422, "empty_audio"),
        (_nan_wav(), 422, "invalid_samples"),
        (encode(np.zeros(11 * 8_000, dtype=np.int16), 8_000), 413, "audio_too_long"),
        (bytes(2_000_001), 413, "upload_too_large"),
    ],
    ids=["empty", "text", "png", "truncated", "no-samples", "nan", "too-long", "too-large"],
)
def test_bad_uploads_get_a_typed_error_never_a_500(client, data, status, code):
    response = client.post("/v1/transcribe", files=upload(data))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_missing_file_field_is_a_validation_error(client):
    response = client.post("/v1/transcribe", data={"not_file": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert "file" in response.json()["error"]["message"]


def test_concurrent_requests_get_the_sequential_transcripts(client):
    clips = [encode(speechlike(0.4 + 0.15 * i, 16_000, seed=100 + i), 16_000) for i in range(12)]
    sequential = [client.post("/v1/transcribe", files=upload(clip)).json()["text"] for clip in clips]
    batches_before = _metric(client, "asr_batch_size_count")
    requests_before = _metric(client, "asr_batch_size_sum")

    def post(clip: bytes) -> str:
        response = client.post("/v1/transcribe", files=upload(clip))
        assert response.status_code == 200, response.text
        return response.json()["text"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        concurrent = list(pool.map(post, clips))
    assert concurrent == sequential
    # Micro-batching happened: fewer model calls than requests.
    calls = _metric(client, "asr_batch_size_count") - batches_before
    assert _metric(client, "asr_batch_size_sum") - requests_before == 12
    assert calls < 12


def _metric(client: TestClient, name: str, labels: str = "") -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + labels + " ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"metric {name}{labels} not exposed")


def test_metrics_count_requests_by_status_and_audio_seconds(client):
    before_ok = _metric(client, "asr_http_requests_total", '{method="POST",route="/v1/transcribe",status="200"}')
    before_415 = _metric(client, "asr_http_requests_total", '{method="POST",route="/v1/transcribe",status="415"}')
    audio_before = _metric(client, "asr_audio_seconds_total")
    client.post("/v1/transcribe", files=upload(encode(speechlike(2.0, 16_000), 16_000)))
    client.post("/v1/transcribe", files=upload(b"not audio at all" * 8))
    assert _metric(client, "asr_http_requests_total", '{method="POST",route="/v1/transcribe",status="200"}') == (
        before_ok + 1
    )
    assert _metric(client, "asr_http_requests_total", '{method="POST",route="/v1/transcribe",status="415"}') == (
        before_415 + 1
    )
    assert _metric(client, "asr_audio_seconds_total") == pytest.approx(audio_before + 2.0)
    text = client.get("/metrics").text
    for name in ("asr_http_request_duration_seconds_bucket", "asr_queue_depth", "asr_model_duration_seconds"):
        assert name in text


def test_health_readiness_models_and_docs(client, model_base_path):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    [model] = client.get("/v1/models").json()["data"]
    assert (model["name"], model["version"], model["backend"]) == ("tiny", 1, "embedded")
    assert model["inputs"]["audio"] == {"dtype": "float", "shape": [None, None]}
    assert model["signature_name"] == "logits"
    assert model["outputs"]["logits"] == {"dtype": "float", "shape": [None, None, len(model["vocab"])]}
    assert (model["decoder"], model["decoders"]) == ("greedy", ["greedy"])
    assert model["sample_rate_hz"] == 16_000
    assert model["vocab"][:1] == ["<pad>"] and "|" in model["vocab"]
    # The fixture's batching, and the pools in effect (ASR_*_OP_THREADS unset: this process's, see conftest.py).
    runtime = model["runtime"]
    assert (runtime["batch_max_size"], runtime["batch_max_wait_ms"]) == (8, 20.0)
    in_effect = (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )
    assert (runtime["intra_op_threads"], runtime["inter_op_threads"]) == in_effect
    assert "/v1/transcribe" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
    assert client.get("/nowhere").json()["error"]["code"] == "not_found"


def test_thread_pools_tensorflow_can_no_longer_use_stop_startup_with_a_clear_error(make_settings):
    # This process's TensorFlow runtime has started (the session's gateway loaded its model), with its pools
    # fixed: other sizes cannot be applied, and the gateway says so instead of running with the old ones.
    import tensorflow as tf

    tf.constant(1.0).numpy()
    asked = tf.config.threading.get_intra_op_parallelism_threads() + 3
    app = create_app(make_settings(intra_op_threads=asked))
    with pytest.raises(ModelLoadError, match=f"cannot use intra-op {asked} .*ASR_INTRA_OP_THREADS"), TestClient(app):
        pass


def test_missing_model_stops_startup_with_a_clear_error(make_settings, tmp_path):
    app = create_app(make_settings(model_path=tmp_path / "no-model-here"))
    with pytest.raises(ModelLoadError, match="no SavedModel at"), TestClient(app):
        pass


def test_chunked_upload_without_content_length_is_cut_off_at_the_cap(client):
    # httpx's ASGI transport pulls the body lazily, like a socket (TestClient would buffer it first).
    limit = client.app.state.settings.http.max_upload_bytes
    chunk = bytes(64 * 1024)
    pulled = 0

    async def multipart_body():
        nonlocal pulled
        yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n'
        for _ in range(16 * 1024):  # 1 GiB if read to the end
            pulled += len(chunk)
            yield chunk
        yield b"\r\n--xyz--\r\n"

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            return await http.post(
                "/v1/transcribe",
                content=multipart_body(),
                headers={"content-type": "multipart/form-data; boundary=xyz"},
            )

    response = asyncio.run(post())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload_too_large"
    assert pulled <= limit + 2 * len(chunk)
