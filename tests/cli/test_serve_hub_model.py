"""`asr serve --model OWNER/NAME`: a Hugging Face Hub id served directly, through the real `huggingface_hub` path.

The Hub cannot be reached here, so the test lays a checkpoint saved by `transformers` out as `huggingface_hub`
caches it (blobs, a snapshot named by its commit, refs/main) and runs with `HF_HUB_OFFLINE=1`: the same
`snapshot_download` call that downloads online finds it there.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from bench.gateway_process import free_port
from tests.support.tiny_models import FEWER_FRAMES, SMALL_BASE_STYLE

REPO_ID = "test-org/tiny-wav2vec2"
LM_REPO_ID = "test-org/tiny-wav2vec2-with-lm"
LM_SENTENCES = ["THE CAT SAT", "THE DOG SAT ON THE MAT", "A CAT AND A DOG"]
LM_ALPHA, LM_BETA = 0.6, 2.0
COMMIT = "0123456789abcdef0123456789abcdef01234567"

pytestmark = pytest.mark.slow  # three gateway starts, one of them exporting


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An HF Hub cache holding REPO_ID at COMMIT: a random `transformers` model and the base-960h processor."""
    from ctc_decoding.language_model import build_language_model
    from tests.support.hf_checkpoints import random_hf_model
    from wav2vec2 import Wav2Vec2Processor

    checkpoint = tmp_path_factory.mktemp("checkpoint")
    random_hf_model(seed=3, vocab_size=32, **SMALL_BASE_STYLE | FEWER_FRAMES).save_pretrained(checkpoint)
    Wav2Vec2Processor().save_pretrained(checkpoint)
    cache = tmp_path_factory.mktemp("hf-hub-cache")
    _lay_out(cache, REPO_ID, checkpoint)
    # The same checkpoint published with an LM, as Wav2Vec2ProcessorWithLM saves one: pyctcdecode's folder.
    language_model = checkpoint / "language_model"
    built = tmp_path_factory.mktemp("lm")
    build_language_model(LM_SENTENCES, Wav2Vec2Processor().tokenizer.tokens_table(), built)
    language_model.mkdir()
    shutil.copyfile(built / "lm.arpa", language_model / "tiny.arpa")
    (language_model / "unigrams.txt").write_text("\n".join(sorted(set(" ".join(LM_SENTENCES).split()))) + "\n")
    (language_model / "attrs.json").write_text(json.dumps({"alpha": LM_ALPHA, "beta": LM_BETA}))
    _lay_out(cache, LM_REPO_ID, checkpoint)
    return cache


def _lay_out(cache: Path, repo_id: str, checkpoint: Path) -> None:
    """Puts `checkpoint`'s files into `cache` as `huggingface_hub` caches repo_id at COMMIT."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    snapshot, blobs = repo / "snapshots" / COMMIT, repo / "blobs"
    snapshot.mkdir(parents=True)
    blobs.mkdir()
    for file in checkpoint.rglob("*"):
        if file.is_dir():
            continue
        blob = blobs / hashlib.sha256(file.read_bytes()).hexdigest()
        shutil.copyfile(file, blob)
        link = snapshot / file.relative_to(checkpoint)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))


def _environment(hub_cache: Path, export_cache: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(hub_cache),
        "ASR_MODEL_CACHE_DIR": str(export_cache),
    }
    env.pop("ASR_MODEL_PATH", None)
    return env | {"ASR_HOST": "127.0.0.1"}


def _serve_once(
    command: list[str], env: dict[str, str], log: Path, request: str = "/v1/transcribe?decoder=greedy"
) -> tuple[float, dict, str]:
    """Starts `asr serve`, waits until ready, transcribes a clip; returns (seconds to ready, response, log)."""
    port = free_port()
    started = time.monotonic()
    with open(log, "w") as out:
        process = subprocess.Popen([*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() - started < 240, "the gateway did not become ready"
            try:
                if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        ready_s = time.monotonic() - started
        wav = io.BytesIO()
        sf.write(wav, np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), 16000, format="WAV")
        response = httpx.post(url + request, files={"file": ("a.wav", wav.getvalue())}, timeout=120)
        assert response.status_code == 200, response.text
        return ready_s, response.json(), log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_a_hub_id_is_downloaded_exported_once_and_reused_on_the_next_start(hub_cache, tmp_path):
    export_cache = tmp_path / "exports"
    env = _environment(hub_cache, export_cache)
    command = [sys.executable, "-m", "cli.main", "serve", "--model", REPO_ID]

    first_s, first, first_log = _serve_once(command, env, tmp_path / "first.log")
    (saved_model,) = export_cache.glob("*/*/1/saved_model.pb")
    assert saved_model.parts[-4] == "test-org--tiny-wav2vec2"
    assert "exporting test-org/tiny-wav2vec2" in first_log
    exported_at = saved_model.stat().st_mtime_ns

    # The second start finds the export: nothing converted or written, and the same words.
    second_s, second, second_log = _serve_once(command, env, tmp_path / "second.log")
    assert "exporting" not in second_log and "using the export of test-org/tiny-wav2vec2" in second_log
    assert saved_model.stat().st_mtime_ns == exported_at
    assert second["text"] == first["text"] and second["words"] == first["words"]
    print(f"hub id served: first start {first_s:.1f} s (download + export), second {second_s:.1f} s")
    assert second_s < first_s


def test_the_export_matches_the_transformers_model_it_came_from(hub_cache, tmp_path, monkeypatch):
    """The cached SavedModel is the checkpoint converted: its logits equal the PyTorch model's."""
    import huggingface_hub.constants
    import tensorflow as tf
    import torch
    import transformers

    from model_export.export_cache import export_if_needed, locate

    # What HF_HUB_OFFLINE=1 and HF_HUB_CACHE set when huggingface_hub is imported, for this process.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub_cache))
    saved_model_dir = export_if_needed(locate(REPO_ID, tmp_path / "exports"))
    audio = np.random.default_rng(1).normal(0, 0.2, (1, 8000)).astype(np.float32)
    served = tf.saved_model.load(str(saved_model_dir / "1")).signatures["logits"]
    ours = served(audio=tf.constant(audio), audio_length=tf.constant([8000], tf.int32))["logits"].numpy()
    snapshot = hub_cache / f"models--{REPO_ID.replace('/', '--')}" / "snapshots" / COMMIT
    reference = transformers.Wav2Vec2ForCTC.from_pretrained(snapshot).eval()
    normalised = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
    with torch.no_grad():
        theirs = reference(torch.from_numpy(normalised)).logits.numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=1e-4)


def test_an_unknown_hub_id_offline_is_one_line_and_exit_2_before_tensorflow(hub_cache, tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "--port", "0", "--model", "test-org/no-such-model"],
        capture_output=True, text=True, timeout=120, env=_environment(hub_cache, tmp_path / "exports"),
    )  # fmt: skip
    elapsed_s = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert "asr serve: 'test-org/no-such-model' is not a local directory and could not be fetched" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "exports").exists()
    assert elapsed_s < 15  # no TensorFlow import, no model load (about 2 s on an idle machine)


def test_a_hub_id_published_with_a_language_model_is_served_with_it(hub_cache, tmp_path):
    export_cache = tmp_path / "exports"
    command = [sys.executable, "-m", "cli.main", "serve", "--model", LM_REPO_ID]
    _, transcript, log = _serve_once(
        command, _environment(hub_cache, export_cache), tmp_path / "lm.log", "/v1/transcribe"
    )
    assert transcript["decoder"] == "lm", log  # the default decoder (auto) found the published LM
    assert set(transcript["text"].split()) <= set(" ".join(LM_SENTENCES).split())
    (decoder_json,) = export_cache.glob("*/*/1/assets.extra/lm/decoder.json")
    config = json.loads(decoder_json.read_text())
    # pyctcdecode weighs natural-log LM scores by alpha, flashlight's KenLM log10 ones: the same weight is alpha ln 10.
    assert config["lm_weight"] == pytest.approx(LM_ALPHA * math.log(10)) and config["word_score"] == LM_BETA
    assert config["order"] == 3
