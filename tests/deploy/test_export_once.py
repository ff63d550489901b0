"""docker/export-once.sh, compose's one-shot `export` service and the TF Serving pod's init container: exports
only a missing version, never leaves a half-written version where TF Serving polls, and fails loudly."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tiny_models import tiny_checkpoint

from .layout import DOCKER_DIR, MODEL_NAME, REPO_ROOT

SCRIPT = DOCKER_DIR / "export-once.sh"

# Stands in for the `asr` CLI at its process boundary: writes the TF Serving layout `asr export` documents
# (OUT/NAME/VERSION/saved_model.pb) and records its arguments.
FAKE_EXPORT = """
import argparse, pathlib, sys
parser = argparse.ArgumentParser()
parser.add_argument("command")
for flag in ("--model", "--out", "--name", "--version"):
    parser.add_argument(flag, required=True)
args = parser.parse_args()
version_dir = pathlib.Path(args.out) / args.name / args.version
(version_dir / "variables").mkdir(parents=True)
(version_dir / "saved_model.pb").write_bytes(b"graph")
pathlib.Path(sys.argv[0]).with_suffix(".args").write_text(" ".join(sys.argv[1:]))
"""


# Any model but "default" goes through `asr export`; "default" copies the bundled SavedModel instead.
CHECKPOINT = "facebook/wav2vec2-base-960h"


def _run(models_dir: Path, cli: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ASR_")}
    full_env.update(
        {"ASR_EXPORT_DIR": str(models_dir), "ASR_CLI": cli, "ASR_PYTHON": shlex.quote(sys.executable), **env}
    )
    return subprocess.run(
        ["bash", str(SCRIPT)], env=full_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def fake_cli(tmp_path: Path) -> tuple[str, Path]:
    script = tmp_path / "fake_asr.py"
    script.write_text(FAKE_EXPORT)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", script.with_suffix(".args")


def test_exports_a_missing_version_through_staging(tmp_path: Path, fake_cli) -> None:
    cli, args_file = fake_cli
    models = tmp_path / "models"
    result = _run(models, cli, ASR_EXPORT_MODEL=CHECKPOINT, ASR_EXPORT_VERSION="3")
    assert result.returncode == 0, result.stderr
    assert (models / MODEL_NAME / "3" / "saved_model.pb").read_bytes() == b"graph"
    args = args_file.read_text().split()
    assert args[:3] == ["export", "--model", CHECKPOINT]
    out_dir = Path(args[args.index("--out") + 1])
    # Written outside base_path (models/wav2vec2) and renamed into it; the staging directory is gone.
    assert out_dir.parent == models and not out_dir.exists()
    assert args[args.index("--name") + 1] == MODEL_NAME and args[args.index("--version") + 1] == "3"
    assert sorted(p.name for p in models.iterdir()) == [MODEL_NAME]


def _fake_saved_model(version_dir: Path) -> Path:
    (version_dir / "variables").mkdir(parents=True)
    (version_dir / "variables" / "variables.index").write_bytes(b"index")
    (version_dir / "saved_model.pb").write_bytes(b"bundled graph")
    return version_dir


def test_default_copies_the_bundled_model_as_version_1(tmp_path: Path) -> None:
    """ "default" is what `asr serve` with no flags loads (ASR_MODEL_PATH stands in for the bundled path here):
    already a SavedModel, so it is copied, highest version, without calling `asr export`."""
    bundled = tmp_path / "bundled" / "demo"
    _fake_saved_model(bundled / "1")
    _fake_saved_model(bundled / "3")
    models = tmp_path / "models"
    result = _run(models, cli="false", ASR_MODEL_PATH=str(bundled))
    assert result.returncode == 0, result.stderr
    assert (models / MODEL_NAME / "1" / "saved_model.pb").read_bytes() == b"bundled graph"
    assert (models / MODEL_NAME / "1" / "variables" / "variables.index").read_bytes() == b"index"
    assert f"{bundled / '3'}" in result.stdout
    assert sorted(p.name for p in models.iterdir()) == [MODEL_NAME]


def test_default_without_a_bundled_model_fails_clearly(tmp_path: Path) -> None:
    models = tmp_path / "models"
    result = _run(models, cli="false", ASR_MODEL_PATH=str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "export-once: no bundled model to copy: no SavedModel at" in result.stderr
    assert list(models.iterdir()) == []


def test_existing_version_is_left_alone(tmp_path: Path) -> None:
    version_dir = tmp_path / MODEL_NAME / "1"
    version_dir.mkdir(parents=True)
    (version_dir / "saved_model.pb").write_bytes(b"already served")
    result = _run(tmp_path, cli="false")  # calling the CLI at all would fail the run
    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout
    assert (version_dir / "saved_model.pb").read_bytes() == b"already served"


def test_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    result = _run(tmp_path, cli="false", ASR_EXPORT_MODEL=CHECKPOINT)
    assert result.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_export_that_writes_no_saved_model_fails(tmp_path: Path) -> None:
    result = _run(tmp_path, cli="true", ASR_EXPORT_MODEL=CHECKPOINT)
    assert result.returncode == 1
    assert "wrote no wav2vec2/1/saved_model.pb" in result.stderr
    assert not (tmp_path / MODEL_NAME).exists()


@pytest.mark.parametrize("version", ["0", "abc", "-1", "1.5"])
def test_rejects_a_version_tf_serving_would_not_load(tmp_path: Path, version: str) -> None:
    result = _run(tmp_path, cli="false", ASR_EXPORT_VERSION=version)
    assert result.returncode == 2
    assert "ASR_EXPORT_VERSION must be a positive integer" in result.stderr


@pytest.mark.slow
def test_real_asr_export_of_a_checkpoint(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    checkpoint = tiny_checkpoint(tmp_path_factory)
    models = tmp_path / "models"
    result = _run(models, cli=f"{shlex.quote(sys.executable)} -m cli.main", ASR_EXPORT_MODEL=str(checkpoint))
    assert result.returncode == 0, result.stderr
    version_dir = models / MODEL_NAME / "1"
    assert (version_dir / "saved_model.pb").is_file()
    assert (version_dir / "variables").is_dir()
    assert (version_dir / "assets.extra" / "tf_serving_warmup_requests").is_file()
    assert sorted(p.name for p in models.iterdir()) == [MODEL_NAME]


def test_the_bundled_model_is_where_default_finds_it(tmp_path: Path) -> None:
    result = _run(tmp_path, cli="false")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / MODEL_NAME / "1" / "saved_model.pb").is_file()
    assert (tmp_path / MODEL_NAME / "1" / "variables").is_dir()
