"""`asr export`: from a save_pretrained directory to a verified TF Serving version directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from model_export.warmup import WARMUP_DIR, WARMUP_FILENAME


@pytest.mark.slow
def test_export_with_verify_writes_a_servable_version(checkpoint: Path, tmp_path: Path, capsys) -> None:
    argv = ["export", "--model", str(checkpoint), "--out", str(tmp_path), "--name", "asr", "--version", "3"]
    assert main([*argv, "--verify"]) == 0
    assert (tmp_path / "asr" / "3" / "saved_model.pb").is_file()
    assert (tmp_path / "asr" / "3" / WARMUP_DIR / WARMUP_FILENAME).is_file()
    # A version TF Serving may already serve is never overwritten.
    capsys.readouterr()
    assert main(argv) == 2
    assert "exists; TF Serving may be serving it" in capsys.readouterr().err


def test_missing_checkpoint_and_bad_version_are_input_errors(checkpoint: Path, tmp_path: Path, capsys) -> None:
    missing = ["export", "--model", str(tmp_path / "nope"), "--out", str(tmp_path), "--name", "asr", "--version", "1"]
    assert main(missing) == 2
    assert capsys.readouterr().err.startswith("asr export: cannot load the model to export from")
    bad_version = ["export", "--model", str(checkpoint), "--out", str(tmp_path), "--name", "asr", "--version", "0"]
    assert main(bad_version) == 2
    assert "version 0 must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "asr").exists()


@pytest.mark.slow
def test_bfloat16_export_verifies_against_the_float32_checkpoint(checkpoint: Path, tmp_path: Path, caplog) -> None:
    argv = ["export", "--model", str(checkpoint), "--out", str(tmp_path), "--name", "asr", "--version", "1"]
    with caplog.at_level("INFO"):
        assert main([*argv, "--precision", "bfloat16", "--verify"]) == 0
    assert "verification passed (bfloat16)" in caplog.text
    assert (tmp_path / "asr" / "1" / "saved_model.pb").is_file()
