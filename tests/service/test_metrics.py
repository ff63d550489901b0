"""`asr_model_duration_seconds` measures the same thing behind every door: the backend's time, not the upload's
decoding (docs/service.md, "Metrics")."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service import create_app
from service.api.uploads import decode_audio
from tests.service.gateway_fixtures import encode, upload

# Five minutes of 48 kHz stereo silence: a 54 kB FLAC that takes most of a second to decode and resample, while
# the silence gate spares the model every window. A door that timed the decoding would report that second.
SILENCE_S = 300.0


@pytest.fixture(scope="module")
def client(make_settings):
    with TestClient(create_app(make_settings(max_duration_h=SILENCE_S / 3600))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def silent_flac() -> bytes:
    return encode(np.zeros((int(SILENCE_S * 48_000), 2), np.float32), 48_000, "FLAC")


def _model_seconds_sum(client: TestClient) -> float:
    [line] = [
        line for line in client.get("/metrics").text.splitlines() if line.startswith("asr_model_duration_seconds_sum")
    ]
    return float(line.split()[-1])


def _observed_s(client: TestClient, post) -> float:
    """The model time one request adds to the histogram."""
    before = _model_seconds_sum(client)
    response = post()
    assert response.status_code == 200, response.text
    return _model_seconds_sum(client) - before


def test_model_time_leaves_out_decoding_on_both_upload_doors(client, silent_flac):
    started = time.perf_counter()
    decode_audio(io.BytesIO(silent_flac), SILENCE_S)
    decoding_s = time.perf_counter() - started

    ours = _observed_s(client, lambda: client.post("/v1/transcribe", files=upload(silent_flac, "silence.flac")))
    openai = _observed_s(
        client,
        lambda: client.post(
            "/v1/audio/transcriptions", files=upload(silent_flac, "silence.flac"), data={"model": "tiny"}
        ),
    )
    # Each door's observation is the backend's work on silence, well under the decoding the request also did.
    assert ours < decoding_s / 2, (ours, decoding_s)
    assert openai < decoding_s / 2, (openai, decoding_s)
