"""The flags of `asr train` and `asr pretrain` become one TrainConfig by the same rule: defaults, --options, flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import pretrain, train
from cli.errors import CommandError
from cli.main import build_parser
from cli.run_options import run_config


def test_train_flags_win_over_the_options_file(tmp_path: Path) -> None:
    (tmp_path / "o.json").write_text(json.dumps({"steps": 7, "batch_size": 3, "config_overrides": {"layerdrop": 0.1}}))
    args = build_parser().parse_args(
        ["train", "--pretrained", "ckpt", "--data", "d/*", "--out", str(tmp_path / "run"),
         "--options", str(tmp_path / "o.json"), "--steps", "9", "--max-duration", "5.5", "--eval-every", "4",
         "--eval-data", "dev/*", "--no-freeze-feature-extractor", "--override", "mask_time_prob=0.05"]
    )  # fmt: skip
    config = run_config(args, fields=train.TRAIN_FIELDS)
    assert (config.steps, config.batch_size, config.max_duration_s) == (9, 3, 5.5)
    assert (config.eval_every, config.eval_data, config.freeze_feature_extractor) == (4, "dev/*", False)
    assert config.config_overrides == {"layerdrop": 0.1, "mask_time_prob": 0.05}
    assert (config.pretrained, config.train_data) == ("ckpt", "d/*")


def test_pretrain_defaults_train_the_feature_encoder_and_rename_its_mask_flags(tmp_path: Path) -> None:
    argv = ["pretrain", "--config", "m.json", "--data", "d/*", "--out", str(tmp_path), "--mask-time-prob", "0.5"]
    args = build_parser().parse_args(argv)
    config = run_config(
        args, fields=pretrain.PRETRAIN_FIELDS, renamed=pretrain.PRETRAIN_RENAMED, defaults=pretrain.PRETRAIN_DEFAULTS
    )
    assert (config.freeze_feature_extractor, config.checkpoint_every) == (False, 500)
    assert (config.pretrain_mask_time_prob, config.pretrain_mask_time_length) == (0.5, 10)
    args = build_parser().parse_args([*argv, "--freeze-feature-extractor", "--checkpoint-every", "20"])
    config = run_config(
        args, fields=pretrain.PRETRAIN_FIELDS, renamed=pretrain.PRETRAIN_RENAMED, defaults=pretrain.PRETRAIN_DEFAULTS
    )
    assert (config.freeze_feature_extractor, config.checkpoint_every) == (True, 20)


@pytest.mark.parametrize("command", ["train", "pretrain"])
def test_a_missing_options_file_is_an_input_error(command: str, tmp_path: Path) -> None:
    argv = [command, "--config", "m.json", "--data", "d", "--out", str(tmp_path), "--options", str(tmp_path / "no")]
    with pytest.raises(CommandError, match="--options .*no"):
        run_config(build_parser().parse_args(argv))
