"""`asr wyoming`: a model that cannot be loaded is one clear line and exit code 2, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main


def test_asr_wyoming_without_a_model_exits_2_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["wyoming", "--model", str(tmp_path), "--uri", "tcp://127.0.0.1:0"]) == 2
    assert "no SavedModel" in capsys.readouterr().err


def test_asr_wyoming_help_shows_the_home_assistant_setup(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["wyoming", "--help"])
    out = capsys.readouterr().out
    assert "--uri" in out and "Wyoming Protocol" in out
