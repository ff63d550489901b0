"""Inference-only commands let oneDNN cache weight layouts; training processes and in-process exports never do."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from cli.main import build_parser
from cli.tf_setup import FROZEN_WEIGHTS_VARIABLE
from model_export.export_cache import CACHED_VERSION, LocatedModel

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import os, sys\n"
    "from cli.tf_setup import load_tensorflow\n"
    "load_tensorflow(False, inference_only=sys.argv[1] == 'yes')\n"
    f"print(os.environ.get({FROZEN_WEIGHTS_VARIABLE!r}, 'unset'))\n"
)


def probe(inference_only: str, **environment: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != FROZEN_WEIGHTS_VARIABLE} | environment
    result = subprocess.run(
        [sys.executable, "-c", PROBE, inference_only], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    return result.stdout.strip()


def test_the_variable_is_set_before_tensorflow_loads_for_inference_only_and_a_users_value_wins() -> None:
    assert probe("yes") == "1"
    assert probe("no") == "unset"
    assert probe("yes", **{FROZEN_WEIGHTS_VARIABLE: "0"}) == "0"


def test_of_the_commands_only_transcribe_asks_for_it_and_the_servers_decide_at_run_time() -> None:
    # `asr serve` / `asr wyoming` ask through cli.settings.load_tensorflow_to_serve, once they know whether they
    # export a checkpoint in-process; `train`, `pretrain`, `export` and the rest must never ask.
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    asking = {name for name, sub in commands.choices.items() if sub.get_default("inference_only")}
    assert asking == {"transcribe"}
    assert {"train", "pretrain", "export"} <= set(commands.choices)


def test_a_checkpoint_exports_now_until_its_cached_version_exists(tmp_path: Path) -> None:
    model = LocatedModel("org/model", tmp_path / "cache" / "model", checkpoint_dir=tmp_path / "checkpoint")
    assert model.exports_now
    (model.saved_model_dir / str(CACHED_VERSION)).mkdir(parents=True)
    assert not model.exports_now
    assert not LocatedModel("exports/model", tmp_path / "exports" / "model").exports_now
