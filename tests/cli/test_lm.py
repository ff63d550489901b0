"""`asr transcribe --lm`, `asr lm build` and `asr lm tune` over the tiny export: what they print and write.

The gateway's own LM tests (backends, startup checks) are in tests/service/test_language_model_decoding.py;
both use the corpus and clips of tests/service/lm_fixtures.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cli.main import main
from service import Settings, create_app
from tests.service.gateway_fixtures import upload
from tests.service.lm_fixtures import CLIPS, LEXICON, SENTENCES, build_test_lm


@pytest.fixture(scope="module")
def lm_dir(model_base_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_lm(model_base_path, tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def lm_texts(model_base_path: Path, lm_dir: Path) -> list[str]:
    """The gateway's transcripts of CLIPS over the same export and LM."""
    with TestClient(create_app(Settings(model_path=model_base_path, lm_path=lm_dir))) as gateway:
        bodies = [gateway.post("/v1/transcribe", files=upload(clip)).json() for clip in CLIPS]
    assert {body["decoder"] for body in bodies} == {"lm"}
    return [body["text"] for body in bodies]


def test_asr_transcribe_with_lm_prints_what_the_gateway_returns(model_base_path, lm_dir, lm_texts, tmp_path, capsys):
    paths = []
    for index, clip in enumerate(CLIPS):
        paths.append(tmp_path / f"{index}.wav")
        paths[-1].write_bytes(clip)
    argv = ["transcribe", *map(str, paths), "--model", str(model_base_path), "--lm", str(lm_dir), "--json"]
    assert main(argv) == 0
    printed = [json.loads(line)["text"] for line in capsys.readouterr().out.splitlines()]
    assert printed == lm_texts
    assert all(set(text.split()) <= LEXICON for text in printed), printed


def test_asr_lm_build_from_a_manifest_and_a_text_file(model_base_path, tmp_path, capsys) -> None:
    (tmp_path / "a.wav").write_bytes(CLIPS[0])
    (tmp_path / "train.tsv").write_text("a.wav\tsee her eat\n")
    (tmp_path / "more.txt").write_text("it is on\nhe is in\n")
    out = tmp_path / "lm"
    argv = ["lm", "build", "--manifest", str(tmp_path / "train.tsv"), "--text", str(tmp_path / "more.txt"),
            "--model", str(model_base_path), "--out", str(out), "--uppercase", "--lm-weight", "0.8"]  # fmt: skip
    assert main(argv) == 0
    assert "3-gram LM over 8 words from 3 sentences" in capsys.readouterr().out
    config = json.loads((out / "decoder.json").read_text())
    assert (config["lm_weight"], config["word_score"]) == (0.8, 1.0)

    without_uppercase = ["lm", "build", "--text", str(tmp_path / "more.txt"), "--model", str(model_base_path),
                         "--out", str(tmp_path / "lm2")]  # fmt: skip
    assert main(without_uppercase) == 2
    assert "words use characters outside the model's vocabulary" in capsys.readouterr().err


def test_asr_lm_build_without_text_is_a_usage_error(model_base_path, tmp_path, capsys) -> None:
    assert main(["lm", "build", "--model", str(model_base_path), "--out", str(tmp_path / "lm")]) == 2
    assert capsys.readouterr().err == "asr lm build: give at least one --text or --manifest\n"
    assert not (tmp_path / "lm").exists()


def test_asr_lm_tune_prints_the_grid_and_writes_the_best_pair(model_base_path, lm_dir, tmp_path, capsys) -> None:

    tuned_dir = tmp_path / "lm"
    shutil.copytree(lm_dir, tuned_dir)
    rows = []
    for index, clip in enumerate(CLIPS):
        (tmp_path / f"{index}.wav").write_bytes(clip)
        rows.append(f"{index}.wav\t{SENTENCES[index]}")
    (tmp_path / "dev.tsv").write_text("\n".join(rows) + "\n")
    argv = ["lm", "tune", "--model", str(model_base_path), "--lm", str(tuned_dir),
            "--manifest", str(tmp_path / "dev.tsv"), "--lm-weights", "0.5,2", "--word-scores=-5,1",
            "--write", "--no-progress"]  # fmt: skip

    assert main(argv) == 0

    out = capsys.readouterr().out
    table = [line.split() for line in out.splitlines()[1:5]]
    assert sorted((float(row[0]), float(row[1])) for row in table) == [(0.5, -5), (0.5, 1), (2, -5), (2, 1)]
    assert "current (1, 1)" not in out  # (1, 1) was not in the grid
    config = json.loads((tuned_dir / "decoder.json").read_text())
    assert (config["lm_weight"], config["word_score"]) == (float(table[0][0]), float(table[0][1]))
    assert f"wrote lm_weight={table[0][0]}, word_score={table[0][1]}" in out


def test_asr_lm_tune_on_a_missing_manifest_is_a_clear_error(model_base_path, lm_dir, tmp_path, capsys) -> None:
    argv = ["lm", "tune", "--model", str(model_base_path), "--lm", str(lm_dir), "--manifest", str(tmp_path / "no.tsv")]
    assert main(argv) == 2
    assert "no.tsv does not exist" in capsys.readouterr().err
