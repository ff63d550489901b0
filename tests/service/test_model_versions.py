"""New model versions swapped in under load without a dropped request; broken ones refused; idle models unloaded.

The model folder is TF Serving's layout (`tiny/1/`, then `tiny/2/` renamed into place as `asr export` does);
the gateway polls it. Version 2 has other weights, so each response's text shows which version made it, and
must agree with the version the response names.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import tensorflow as tf

from bench.live_server import serve
from model_export.export import export_saved_model
from service import create_app
from tests.service.conftest import MODEL_NAME, TINY_CONFIG
from tests.service.gateway_fixtures import encode, speechlike
from tests.support.built_once import built_once
from wav2vec2.model import Wav2Vec2ForCTC
from wav2vec2.processor import Wav2Vec2Processor

POLL_S = 0.2
MAX_REQUESTS = 3000


@pytest.fixture(scope="module")
def second_version(tmp_path_factory) -> Path:
    """Version 2 of the tiny model: the same architecture with other random weights."""

    def build(out_dir: Path) -> None:
        tf.keras.utils.set_random_seed(1)
        export_saved_model(Wav2Vec2ForCTC(TINY_CONFIG), Wav2Vec2Processor(), out_dir, MODEL_NAME, 2)

    return built_once(tmp_path_factory, "export-service-tiny-v2", build) / MODEL_NAME / "2"


@pytest.fixture
def model_folder(tmp_path, model_base_path) -> Path:
    folder = tmp_path / "models" / MODEL_NAME
    shutil.copytree(model_base_path / "1", folder / "1")
    return folder


def _place(version_dir: Path, model_folder: Path, version: int) -> None:
    """Puts a version into the model folder the way `asr export` does: written aside, then renamed in."""
    staging = model_folder / f".staging-{version}"
    shutil.copytree(version_dir, staging)
    staging.rename(model_folder / str(version))


def _post(url: str, clip: bytes) -> httpx.Response:
    return httpx.post(f"{url}/v1/transcribe", files={"file": ("a.wav", clip)}, timeout=120)


def test_a_new_version_is_swapped_in_under_load_without_a_failed_request(make_settings, model_folder, second_version):
    clip = encode(speechlike(1.0, 16_000, seed=7), 16_000)
    settings = make_settings(model_path=model_folder, model_poll_s=POLL_S)
    with serve(create_app(settings)) as url:
        before = _post(url, clip).json()
        assert before["model_version"] == 1

        # Concurrency 8 until at least 200 requests are answered and version 2 has answered some: on a busy
        # machine loading version 2 can outlast 200 requests of this tiny model.
        results: list[httpx.Response] = []
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    swapped = any(response.headers.get("X-ASR-Model-Version") == "2" for response in results[-8:])
                    if len(results) >= MAX_REQUESTS or (len(results) >= 200 and swapped):
                        return
                    if len(results) >= 40 and not (model_folder / "2").exists():
                        _place(second_version, model_folder, 2)
                response = _post(url, clip)
                with lock:
                    results.append(response)

        with ThreadPoolExecutor(max_workers=8) as pool:
            for future in [pool.submit(worker) for _ in range(8)]:
                future.result()
        after = _post(url, clip).json()
        metrics = httpx.get(f"{url}/metrics").text

    assert after["model_version"] == 2 and after["text"] != before["text"]
    texts = {1: before["text"], 2: after["text"]}
    assert [response.status_code for response in results] == [200] * len(results)
    versions = [response.json()["model_version"] for response in results]
    assert [response.headers["X-ASR-Model-Version"] for response in results] == [str(v) for v in versions]
    # Each response is the work of the version it names, and both versions answered during the swap.
    assert [response.json()["text"] for response in results] == [texts[version] for version in versions]
    assert {1, 2} <= set(versions)
    counted = {
        version: float(line.rsplit(" ", 1)[1])
        for version in (1, 2)
        for line in metrics.splitlines()
        if line.startswith(f'asr_model_transcriptions_total{{model="{MODEL_NAME}",version="{version}"}}')
    }
    assert counted[1] + counted[2] == len(results) + 2


def test_a_broken_version_is_refused_and_the_old_one_keeps_serving(make_settings, model_folder, caplog):
    clip = encode(speechlike(1.0, 16_000, seed=8), 16_000)
    broken = model_folder.parent / "broken"
    shutil.copytree(model_folder / "1", broken)
    (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
    settings = make_settings(model_path=model_folder, model_poll_s=POLL_S)
    with caplog.at_level(logging.ERROR, logger="service.models.managed"), serve(create_app(settings)) as url:
        expected = _post(url, clip).json()["text"]
        _place(broken, model_folder, 3)
        deadline = time.monotonic() + 30
        while "version 3 not loaded" not in caplog.text:
            assert time.monotonic() < deadline, "the broken version was never tried"
            assert _post(url, clip).json()["text"] == expected
        responses = [_post(url, clip) for _ in range(10)]
        ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 200
    assert all(r.status_code == 200 and r.json()["model_version"] == 1 for r in responses)
    assert all(r.json()["text"] == expected for r in responses)
    assert caplog.text.count("version 3 not loaded") == 1  # remembered: not retried every poll


def test_an_idle_model_is_unloaded_and_reloaded_by_the_next_request(make_settings):
    clip = encode(speechlike(1.0, 16_000, seed=9), 16_000)
    settings = make_settings(model_ttl_s=0.5, model_poll_s=POLL_S)
    with serve(create_app(settings)) as url:
        expected = _post(url, clip).json()["text"]
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/v1/models").json()["data"][0]["loaded"]:
            assert time.monotonic() < deadline, "the idle model was never unloaded"
            time.sleep(POLL_S)
        assert httpx.get(f"{url}/readyz").status_code == 200  # unloaded is still ready: a request loads it
        response = _post(url, clip)  # waits for the load, gets the transcript
        assert response.status_code == 200 and response.json()["text"] == expected
        assert httpx.get(f"{url}/v1/models").json()["data"][0]["loaded"]
