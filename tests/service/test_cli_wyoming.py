"""`asr wyoming`: a model, LM folder or setting that cannot be used is one clear line and exit code 2.

The same checks as `asr serve`'s (cli/settings.py), made before the model loads: no traceback, no server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main


def test_asr_wyoming_without_a_model_exits_2_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["wyoming", "--model", str(tmp_path), "--uri", "tcp://127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("asr wyoming: ") and "no SavedModel" in err


def test_asr_wyoming_with_a_missing_lm_folder_exits_2(model_base_path: Path, tmp_path: Path, capsys) -> None:
    argv = ["wyoming", "--model", str(model_base_path), "--lm", str(tmp_path / "no_lm"), "--uri", "tcp://127.0.0.1:0"]
    assert main(argv) == 2
    assert "no_lm is not a language-model folder: decoder.json is missing" in capsys.readouterr().err


def test_a_bad_setting_in_the_environment_is_an_input_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("ASR_STREAM_MAX_STREAMS", "lots")
    assert main(["wyoming", "--uri", "tcp://127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("asr wyoming: ") and "stream_max_streams" in err


def test_thread_flags_reach_the_settings(capsys) -> None:
    assert main(["wyoming", "--uri", "tcp://127.0.0.1:0", "--inter-op-threads", "-2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("asr wyoming: ") and "inter_op_threads" in err


def test_an_unknown_uri_is_an_input_error_before_the_model_loads(capsys: pytest.CaptureFixture) -> None:
    assert main(["wyoming", "--uri", "http://127.0.0.1:10300"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("asr wyoming: ") and "tcp://HOST:PORT, unix://PATH or stdio://" in err


def test_asr_wyoming_help_shows_the_home_assistant_setup(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["wyoming", "--help"])
    out = capsys.readouterr().out
    assert "--uri" in out and "Wyoming Protocol" in out
