"""Warmup + decay: the learning rate a run actually gets at the steps that matter."""

from __future__ import annotations

import pytest

from training.errors import ConfigError
from training.schedule import WarmupDecay


def lr(schedule: WarmupDecay, step: int) -> float:
    return float(schedule(step))


def test_linear_warmup_then_linear_decay_to_zero() -> None:
    schedule = WarmupDecay(1e-3, warmup_steps=10, total_steps=110, decay="linear")
    assert lr(schedule, 0) == 0.0
    assert lr(schedule, 5) == pytest.approx(5e-4)
    assert lr(schedule, 10) == pytest.approx(1e-3)
    assert lr(schedule, 60) == pytest.approx(5e-4)
    assert lr(schedule, 110) == pytest.approx(0.0, abs=1e-12)
    assert lr(schedule, 500) == pytest.approx(0.0, abs=1e-12)


def test_cosine_decay_halfway_and_floor() -> None:
    schedule = WarmupDecay(2e-4, warmup_steps=0, total_steps=100, decay="cosine", final_ratio=0.1)
    assert lr(schedule, 0) == pytest.approx(2e-4)
    assert lr(schedule, 50) == pytest.approx(2e-4 * (0.1 + 0.9 * 0.5))
    assert lr(schedule, 100) == pytest.approx(2e-5)


def test_bad_schedule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="decay"):
        WarmupDecay(1e-3, 0, 10, decay="step")
    with pytest.raises(ConfigError, match="warmup_steps"):
        WarmupDecay(1e-3, 20, 10)
