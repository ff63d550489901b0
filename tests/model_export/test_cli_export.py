"""`asr export`: from a save_pretrained directory to a verified TF Serving version directory."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cli import export
from model_export.warmup import WARMUP_DIR, WARMUP_FILENAME


def main(argv: list[str]) -> int:
    """`asr` with only the export subcommand registered (the way cli.main registers it)."""
    parser = argparse.ArgumentParser(prog="asr")
    export.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.slow
def test_export_with_verify_writes_a_servable_version(checkpoint: Path, tmp_path: Path) -> None:
    argv = ["export", "--model", str(checkpoint), "--out", str(tmp_path), "--name", "asr", "--version", "3"]
    assert main([*argv, "--verify"]) == 0
    assert (tmp_path / "asr" / "3" / "saved_model.pb").is_file()
    assert (tmp_path / "asr" / "3" / WARMUP_DIR / WARMUP_FILENAME).is_file()
    # A version TF Serving may already serve is never overwritten.
    assert main(argv) == 1


def test_missing_checkpoint_and_bad_version_fail_with_exit_code_1(checkpoint: Path, tmp_path: Path) -> None:
    missing = ["export", "--model", str(tmp_path / "nope"), "--out", str(tmp_path), "--name", "asr", "--version", "1"]
    assert main(missing) == 1
    bad_version = ["export", "--model", str(checkpoint), "--out", str(tmp_path), "--name", "asr", "--version", "0"]
    assert main(bad_version) == 1
    assert not (tmp_path / "asr").exists()
