"""The gateway with a language model: `logits` from the SavedModel, lexicon beam search in the gateway.

The model is the tiny random export (its logits are noise), so these tests check the plumbing a user relies
on: only lexicon words come out, the embedded backend and TF Serving's gRPC path (our stand-in server, a real
gRPC `PredictionService` over the same SavedModel; the real binary is not installable here) agree, and a
folder that does not fit the model stops startup with a clear message. `asr transcribe --lm` and `asr lm` are
tested in tests/cli/test_lm.py, the bundled demo model's accuracy with its LM in tests/e2e.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ctc_decoding import build_language_model
from engine.decoding import language_model_path
from engine.errors import ModelLoadError
from model_export.contract import resolve_version_dir
from service import create_app
from service.config import BUNDLED_MODEL_PATH, Settings
from tests.service.gateway_fixtures import upload
from tests.service.lm_fixtures import CLIPS, LEXICON, build_test_lm
from tests.support.tfserving_standin import StandInServer


@pytest.fixture(scope="module")
def lm_dir(model_base_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_lm(model_base_path, tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def lm_texts(make_settings, lm_dir: Path) -> list[str]:
    """The embedded gateway's transcripts of CLIPS with the LM."""
    with TestClient(create_app(make_settings(lm_path=lm_dir))) as gateway:
        [model] = gateway.get("/v1/models").json()["data"]
        assert (model["decoder"], model["decoders"]) == ("lm", ["greedy", "lm"])
        assert model["decoder_description"].startswith("lexicon beam search, 3-gram LM over 15 words")
        assert model["signature_name"] == "logits"
        bodies = [gateway.post("/v1/transcribe", files=upload(clip)).json() for clip in CLIPS]
        assert {body["decoder"] for body in bodies} == {"lm"}
        return [body["text"] for body in bodies]


def test_only_lexicon_words_come_out(lm_texts: list[str], client: TestClient) -> None:
    greedy = [client.post("/v1/transcribe", files=upload(clip)).json()["text"] for clip in CLIPS]
    assert any(lm_texts), lm_texts
    assert all(set(text.split()) <= LEXICON for text in lm_texts), lm_texts
    assert lm_texts != greedy
    [model] = client.get("/v1/models").json()["data"]
    assert (model["decoder"], model["decoders"]) == ("greedy", ["greedy"])


def test_a_request_may_ask_for_greedy_where_an_lm_is_configured(make_settings, lm_dir, client) -> None:
    greedy = [client.post("/v1/transcribe", files=upload(clip)).json()["text"] for clip in CLIPS]
    with TestClient(create_app(make_settings(lm_path=lm_dir))) as gateway:
        bodies = [gateway.post("/v1/transcribe", params={"decoder": "greedy"}, files=upload(clip)).json()
                  for clip in CLIPS]  # fmt: skip
    assert [body["text"] for body in bodies] == greedy
    assert {body["decoder"] for body in bodies} == {"greedy"}


def test_asking_for_the_lm_where_none_is_configured_is_a_422(client) -> None:
    response = client.post("/v1/transcribe", params={"decoder": "lm"}, files=upload(CLIPS[0]))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_decoder"
    assert "available: greedy" in response.json()["error"]["message"]


def test_tf_serving_backend_decodes_the_same_words(model_base_path, make_settings, lm_dir, lm_texts) -> None:
    server = StandInServer(model_base_path, "tiny", port=0)
    try:
        settings = make_settings(tfserving_address=server.address, lm_path=lm_dir, grpc_timeout_s=10.0)
        with TestClient(create_app(settings)) as gateway:
            assert gateway.get("/v1/models").json()["data"][0]["signature_name"] == "logits"
            served = [gateway.post("/v1/transcribe", files=upload(clip)).json()["text"] for clip in CLIPS]
    finally:
        server.stop()
    assert served == lm_texts


def test_an_lm_built_for_another_vocabulary_stops_startup(make_settings, tmp_path) -> None:
    build_language_model(["ten to one"], ["<pad>", "|", *"abcdefghijklmnopqrstuvwxyz"], tmp_path)
    with (
        pytest.raises(ModelLoadError, match="was built for the vocabulary"),
        TestClient(create_app(make_settings(lm_path=tmp_path))),
    ):
        pass


def test_a_missing_lm_folder_stops_startup_with_its_path(make_settings, tmp_path) -> None:
    with (
        pytest.raises(ModelLoadError, match=r"missing.*decoder.json is missing"),
        TestClient(create_app(make_settings(lm_path=tmp_path / "missing"))),
    ):
        pass


def test_which_lm_the_settings_choose(model_base_path, tmp_path) -> None:
    demo = resolve_version_dir(BUNDLED_MODEL_PATH)
    tiny = resolve_version_dir(model_base_path)
    bundled_lm = demo.path / "assets.extra" / "lm"
    # The demo model's LM travels inside it, so every backend (and every copy of the model) finds it.
    assert language_model_path(Settings(), demo) == bundled_lm
    assert language_model_path(Settings(tfserving_address="localhost:8500"), demo) == bundled_lm
    assert language_model_path(Settings(decoder="greedy"), demo) is None
    assert language_model_path(Settings(model_path=model_base_path), tiny) is None  # this model has none
    assert language_model_path(Settings(model_path=model_base_path, lm_path=tmp_path), tiny) == tmp_path


def test_decoder_lm_without_a_language_model_stops_startup(make_settings) -> None:
    with (
        pytest.raises(ModelLoadError, match="ASR_DECODER=lm but there is no language model"),
        TestClient(create_app(make_settings(decoder="lm"))),
    ):
        pass
