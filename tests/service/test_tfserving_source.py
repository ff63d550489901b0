"""The gRPC backend against a real gRPC server speaking TF Serving's API (our stand-in) on loopback."""

from __future__ import annotations

import io
import time

import grpc
import pytest
import tensorflow as tf
from fastapi.testclient import TestClient
from tensorflow_serving.apis import get_model_metadata_pb2, prediction_service_pb2_grpc

from audio_input import load_audio
from engine.tflite_client import TFLiteClient
from model_export.export import export_saved_model
from service import create_app
from tests.service.conftest import TINY_CONFIG
from tests.service.gateway_fixtures import encode, speechlike, upload
from tests.support.tfserving_standin import StandInServer
from wav2vec2 import SAMPLE_RATE_HZ, Wav2Vec2ForCTC, Wav2Vec2Processor

CLIPS = [encode(speechlike(0.5 + 0.3 * i, 16_000, seed=200 + i), 16_000) for i in range(4)]


def test_transcripts_equal_the_embedded_backend_and_survive_a_restart(model_base_path, make_settings, client):
    embedded = [client.post("/v1/transcribe", files=upload(clip)).json()["text"] for clip in CLIPS]
    server = StandInServer(model_base_path, "tiny", port=0)
    port = server.port
    try:
        settings = make_settings(tfserving_address=server.address, grpc_timeout_s=10.0)
        with TestClient(create_app(settings)) as gateway:
            assert gateway.get("/readyz").json() == {"status": "ready"}
            [model] = gateway.get("/v1/models").json()["data"]
            assert (model["backend"], model["name"], model["version"]) == ("tfserving", "tiny", 1)
            assert model["inputs"]["audio_length"] == {"dtype": "int32", "shape": [None]}
            assert model["runtime"] is None  # TF Serving's flags set its threads and batching, not the gateway
            responses = [gateway.post("/v1/transcribe", files=upload(clip)) for clip in CLIPS]
            assert [response.json()["text"] for response in responses] == embedded
            # The version TF Serving reports answering is the one each response names.
            assert {response.headers["X-ASR-Model-Version"] for response in responses} == {"1"}

            server.stop()
            down = gateway.post("/v1/transcribe", files=upload(CLIPS[0]))
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "backend_unavailable"
            assert "TensorFlow Serving" in down.json()["error"]["message"]
            assert down.headers["retry-after"] == "1"
            assert gateway.get("/readyz").status_code == 503

            server = StandInServer(model_base_path, "tiny", port=port)
            # Same gateway, same channel: gRPC reconnects within its (capped, 1 s) reconnect backoff.
            deadline = time.monotonic() + 10
            while (back := gateway.post("/v1/transcribe", files=upload(CLIPS[1]))).status_code != 200:
                assert time.monotonic() < deadline, back.text
                time.sleep(0.2)
            assert back.json()["text"] == embedded[1]
    finally:
        server.stop()


@pytest.fixture(scope="module")
def standin(model_base_path):
    server = StandInServer(model_base_path, "tiny", port=0)
    yield server
    server.stop()


def test_deadline_exceeded_is_a_504(standin, make_settings):
    with TestClient(create_app(make_settings(tfserving_address=standin.address, grpc_timeout_s=0.001))) as gateway:
        response = gateway.post("/v1/transcribe", files=upload(CLIPS[0]))
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "backend_timeout"


def test_a_model_tf_serving_does_not_serve_is_unavailable(standin, make_settings):
    with TestClient(create_app(make_settings(tfserving_address=standin.address, model_name="other"))) as gateway:
        assert gateway.get("/readyz").status_code == 503
        response = gateway.post("/v1/transcribe", files=upload(CLIPS[0]))
    assert response.status_code == 503
    assert "does not serve model 'other'" in response.json()["error"]["message"]


def test_gateway_starts_before_tf_serving_and_reports_not_ready(make_settings):
    with TestClient(create_app(make_settings(tfserving_address="127.0.0.1:1"))) as gateway:
        assert gateway.get("/healthz").status_code == 200
        assert gateway.get("/readyz").status_code == 503
        assert gateway.post("/v1/transcribe", files=upload(CLIPS[0])).status_code == 503


def served_signatures(address: str, model_name: str) -> set[str]:
    """Returns the signature names TF Serving's `GetModelMetadata` lists for the model."""
    stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(address))
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = model_name
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    stub.GetModelMetadata(request, timeout=10).metadata["signature_def"].Unpack(signature_map)
    return set(signature_map.signature_def)


@pytest.mark.slow
def test_an_int8_export_served_as_tf_serving_serves_it_with_prefer_tflite_model(make_settings, tmp_path):
    # TF Serving's --prefer_tflite_model serves model.tflite's `logits` signature only; the gateway needs no more.
    tf.keras.utils.set_random_seed(0)
    export_saved_model(Wav2Vec2ForCTC(TINY_CONFIG), Wav2Vec2Processor(), tmp_path, "tiny", 1, "int8")
    int8 = TFLiteClient(tmp_path / "tiny" / "1", num_threads=1)
    server = StandInServer(tmp_path / "tiny", "tiny", port=0, prefer_tflite_model=True)
    try:
        assert served_signatures(server.address, "tiny") == {"logits"}  # the flatbuffer's, not the SavedModel's
        settings = make_settings(model_path=tmp_path / "tiny", tfserving_address=server.address, grpc_timeout_s=10.0)
        with TestClient(create_app(settings)) as gateway:
            [model] = gateway.get("/v1/models").json()["data"]
            assert (model["backend"], model["signature_name"]) == ("tfserving", "logits")
            assert model["outputs"]["logits"]["shape"] == [None, None, len(model["vocab"])]
            for clip in CLIPS:
                logits = int8.logits_batch([load_audio(io.BytesIO(clip), SAMPLE_RATE_HZ).samples])[0]
                expected = Wav2Vec2Processor().batch_decode([logits.argmax(-1)])[0].strip()
                assert gateway.post("/v1/transcribe", files=upload(clip)).json()["text"] == expected
    finally:
        server.stop()
