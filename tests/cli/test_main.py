"""The `asr` entry: fast, TensorFlow-free help and usage errors; quiet TensorFlow; one line and exit 2 on bad input."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.main import main

# TensorFlow's native log lines (absl's `I0000 00:00:...` format) and absl's note printed before them.
NATIVE_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d|WARNING: All log messages before absl)", re.MULTILINE)


def run_asr(*argv: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Runs `asr ARGV...` in a fresh interpreter, the way a user's shell does."""
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "cli.main", *argv], capture_output=True, text=True, timeout=120
    )


def test_help_is_fast_silent_and_never_imports_tensorflow() -> None:
    started = time.monotonic()
    result = run_asr("--help", python_flags=("-X", "importtime"))
    elapsed_s = time.monotonic() - started
    assert result.returncode == 0
    assert "convert" in result.stdout and "serve" in result.stdout
    imports = result.stderr.splitlines()
    assert all(line.startswith("import time:") for line in imports), "help printed more than -X importtime"
    assert not [line for line in imports if "tensorflow" in line]
    assert elapsed_s < 2  # about 0.3 s on an idle machine; loose for a busy CI runner


def test_no_subcommand_help_or_usage_error_imports_tensorflow() -> None:
    # Every registered subcommand (new ones included), and each of `lm`'s actions.
    script = """
import sys
from cli.main import build_parser, main
commands = [name for action in build_parser()._subparsers._group_actions for name in action.choices]
commands += ["lm build", "lm tune"]
for command in commands:
    for argv in ([*command.split(), "--help"], [*command.split(), "--no-such-flag"]):
        try:
            main(argv)
        except SystemExit as exit:
            assert exit.code == (0 if argv[-1] == "--help" else 2), (argv, exit.code)
        else:
            raise AssertionError(f"{argv} did not exit")
print(len(commands), "tensorflow" in sys.modules, file=sys.stderr)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "the following arguments are required" in result.stderr or "unrecognized arguments" in result.stderr
    count, tensorflow_loaded = result.stderr.splitlines()[-1].split()
    assert int(count) >= 9
    assert tensorflow_loaded == "False"


def test_tensorflow_start_up_logs_are_hidden_unless_verbose(tmp_path: Path) -> None:
    argv = ("export", "--model", str(tmp_path / "missing"), "--out", str(tmp_path), "--name", "m", "--version", "1")
    quiet = run_asr(*argv)
    assert quiet.returncode == 2
    assert quiet.stdout == ""
    assert quiet.stderr.startswith("asr export: cannot load the model to export from")
    assert len(quiet.stderr.splitlines()) == 1, quiet.stderr  # TensorFlow loaded, and said nothing

    verbose = run_asr("--verbose", *argv)
    assert verbose.returncode == 2
    assert NATIVE_LOG_LINE.search(verbose.stderr), verbose.stderr
    assert "asr export: cannot load the model to export from" in verbose.stderr


# Each subcommand given input it cannot use: `main` prints `asr COMMAND: message` on stderr and returns 2.
INPUT_ERRORS = [
    (["convert", "{tmp}/missing", "{tmp}/out"], "asr convert: no checkpoint directory at"),
    (["prepare", "--manifest", "{tmp}/missing.tsv", "--out", "{tmp}/out", "--no-progress"], "asr prepare: manifest"),
    (["train", "--config", "{tmp}/c.json", "--data", "x", "--out", "{tmp}/run", "--options", "{tmp}/o.json"],
     "asr train: --options"),
    (["train", "--config", "{tmp}/c.json", "--data", "x", "--out", "{tmp}/run", "--override", "layerdrop=oops"],
     "asr train: --override 'layerdrop=oops': the value must be JSON"),
    (["eval", "--model", "{tmp}/missing", "--data", "x"], "asr eval: no checkpoint directory at"),
    (["lm", "build", "--vocab", "{tmp}/vocab.json", "--out", "{tmp}/lm"], "asr lm build: give at least one"),
    (["lm", "tune", "--model", "{tmp}/m", "--lm", "{tmp}/missing", "--manifest", "{tmp}/dev.tsv"], "asr lm tune: "),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), INPUT_ERRORS, ids=[" ".join(argv[:2]) for argv, _ in INPUT_ERRORS])
def test_input_errors_are_one_line_on_stderr_and_exit_2(argv, message, tmp_path, capsys) -> None:
    assert main([part.format(tmp=tmp_path) for part in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(message), captured.err
    assert len(captured.err.splitlines()) == 1


def test_usage_errors_exit_2_with_the_usage_on_stderr(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["transcribe"])
    assert exit.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "asr transcribe: error: the following arguments are required: FILE" in captured.err


@pytest.mark.parametrize("action", ["build", "tune"])
def test_lm_actions_describe_themselves_in_their_help(action, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["lm", action, "--help"])
    usage, description, *_ = capsys.readouterr().out.split("\n\n")
    assert usage.startswith(f"usage: asr lm {action}")
    assert description.strip() and not description.startswith(("options:", "text (at least one)"))
