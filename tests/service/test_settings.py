"""The settings, grouped by concern, still read every variable the docs name, as the docs spell it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from service.config import GROUPS, VARIABLES, Settings
from service.settings_groups import ModelSpec

REPO = Path(__file__).resolve().parents[2]

# ASR_* names in the docs that are not gateway settings: compose's published addresses and export-once's inputs.
NOT_SETTINGS = {"ASR_GATEWAY_BIND", "ASR_WYOMING_BIND", "ASR_EXPORT_MODEL", "ASR_EXPORT_VERSION"}
# ASR_MODEL is the short name of ASR_MODEL_PATH (tested below).
ALIASES = {"ASR_MODEL"}


def documented_variables() -> set[str]:
    """Every `ASR_*` name in the README and docs/ (`ASR_STREAM_*`, a family, left out)."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in [REPO / "README.md", *(REPO / "docs").glob("*.md")])
    return {name for name in re.findall(r"\bASR_[A-Z0-9_]+", text) if not name.endswith("_")}


def changed_values(tmp_path: Path) -> dict[str, tuple[str, object]]:
    """Per setting, a variable's text other than the default and the value it must give; numbers are derived."""
    return {
        "model_path": (str(tmp_path / "model"), tmp_path / "model"),
        "model_cache_dir": (str(tmp_path / "cache"), tmp_path / "cache"),
        "model_name": ("renamed", "renamed"),
        "model_version": ("7", 7),
        "language": ("german", "german"),
        "models": ('{"de": "/models/de"}', {"de": ModelSpec(path=Path("/models/de"))}),
        "decoder": ("greedy", "greedy"),
        "lm_path": (str(tmp_path / "lm"), tmp_path / "lm"),
        "tfserving_address": ("tfserving:8500", "tfserving:8500"),
        "tfserving_model_config": (str(tmp_path / "models.config"), tmp_path / "models.config"),
        "api_keys": ("sk-1, sk-2", ("sk-1", "sk-2")),
        "api_keys_file": (str(tmp_path / "keys"), tmp_path / "keys"),
        "cors_allow_origins": ("https://a.example,https://b.example", ("https://a.example", "https://b.example")),
        "host": ("0.0.0.0", "0.0.0.0"),
        "log_json": ("false", False),
        "stream_reuse_features": ("false", False),
    }


def read(settings: Settings, name: str) -> object:
    group, field = VARIABLES[name]
    value = getattr(getattr(settings, group) if group else settings, field)
    return tuple(key.get_secret_value() for key in value) if name == "api_keys" else value


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in os.environ:
        if name.startswith("ASR_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_every_documented_variable_is_read_into_its_group(clean_environment, tmp_path: Path) -> None:
    documented = documented_variables() - NOT_SETTINGS - ALIASES
    assert documented == {f"ASR_{name.upper()}" for name in VARIABLES}, "a setting undocumented, or a doc stale"
    assert not set(VARIABLES) & set(GROUPS), "a variable named like a group would be taken for the whole group"
    defaults = Settings()
    explicit = changed_values(tmp_path)
    expected = {}
    for name in VARIABLES:
        default = read(defaults, name)
        if name in explicit:
            text, expected[name] = explicit[name]
        else:  # a number: one more than its default passes every bound (`ge`, `gt`, a port's `le`)
            assert isinstance(default, int | float) and not isinstance(default, bool), f"{name}: add it above"
            expected[name] = default + 1
            text = str(expected[name])
        assert expected[name] != default, name
        clean_environment.setenv(f"ASR_{name.upper()}", text)
    settings = Settings()
    assert {name: read(settings, name) for name in VARIABLES} == expected


def test_asr_model_is_the_short_name_of_asr_model_path(clean_environment) -> None:
    clean_environment.setenv("ASR_MODEL_PATH", "/models/long")
    assert Settings().model.path == Path("/models/long")
    clean_environment.setenv("ASR_MODEL", "/models/short")
    assert Settings().model.path == Path("/models/short")


def test_code_names_a_setting_as_its_variable_and_wins_over_the_environment(clean_environment) -> None:
    clean_environment.setenv("ASR_CHUNK_S", "2")
    clean_environment.setenv("ASR_DECODE_THREADS", "3")
    settings = Settings(chunk_s=4.0, stream_hop_s=0.25)
    # The keyword replaces only its own field: the environment's other setting in the same group stays.
    assert (settings.decoding.chunk_s, settings.decoding.decode_threads, settings.stream.hop_s) == (4.0, 3, 0.25)


def test_a_bad_variable_is_named_as_the_user_set_it(clean_environment) -> None:
    clean_environment.setenv("ASR_STREAM_MAX_STREAMS", "lots")
    with pytest.raises(ValueError, match=r"(?m)^stream_max_streams\n.*valid integer"):
        Settings()


def test_a_model_of_asr_models_runs_with_its_own_path_name_language_lm_and_decoder() -> None:
    settings = Settings(
        model_name="en",
        chunk_s=3.0,
        models={"de": {"path": "/models/de", "language": "german", "lm_path": "/lms/de", "decoder": "lm"}},
    )
    german = settings.for_model("de")
    assert (german.model.path, german.model.name, german.model.language_code) == (Path("/models/de"), "de", "de")
    assert (german.decoding.lm_path, german.decoding.decoder) == (Path("/lms/de"), "lm")
    assert german.decoding.chunk_s == 3.0 and german.model_names() == ["de"]
    assert settings.for_model("en") is settings
