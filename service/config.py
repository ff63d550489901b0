"""The gateway's settings: one pydantic-settings model of groups by concern, read from flat `ASR_*` variables.

Each group (service/settings_groups.py) is what one part of the service reads: `settings.decoding.chunk_s`,
`settings.stream.hop_s`. The environment and code name a setting as its variable does, flat:
`ASR_CHUNK_S=3` and `Settings(chunk_s=3)` set `settings.decoding.chunk_s`; `VARIABLES` maps each name to its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from service.settings_groups import (
    BUNDLED_MODEL_PATH,
    AdmissionSettings,
    BatchingSettings,
    DecodingSettings,
    HttpSettings,
    ModelSettings,
    RegistrySettings,
    SettingsGroup,
    StreamSettings,
    TfServingSettings,
    WyomingSettings,
)
from wav2vec2 import SAMPLE_RATE_HZ

__all__ = ["BUNDLED_MODEL_PATH", "MODEL_SAMPLE_RATE_HZ", "VARIABLES", "Settings", "get_settings"]

# The SavedModel contract takes the model's rate; this name stays for the service's modules that import it.
MODEL_SAMPLE_RATE_HZ = SAMPLE_RATE_HZ

ENV_PREFIX = "ASR_"


class Settings(BaseSettings):
    """Everything the gateway can be told, by concern; each setting is read from its flat `ASR_*` variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, protected_namespaces=())

    model: ModelSettings = Field(default_factory=ModelSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    decoding: DecodingSettings = Field(default_factory=DecodingSettings)
    batching: BatchingSettings = Field(default_factory=BatchingSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)
    tfserving: TfServingSettings = Field(default_factory=TfServingSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)
    wyoming: WyomingSettings = Field(default_factory=WyomingSettings)
    log_json: bool = Field(True, description="Log one JSON object per line (for log collectors).")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise _named_by_variable(error) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keyword arguments win over the environment; _group_flat_names places their flat names after the merge.
        return init_settings, FlatEnvironment(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _group_flat_names(cls, data: object) -> object:
        """Moves each flat name (`chunk_s`) into its group (`decoding`); a flat name wins over its group's value."""
        if not isinstance(data, Mapping):
            return data
        grouped: dict[str, Any] = {key: value for key, value in data.items() if VARIABLES.get(key, ("",))[0] == ""}
        for key, value in data.items():
            group, field = VARIABLES.get(key, ("", key))
            if group:
                current = grouped.get(group, {})
                grouped[group] = {**(dict(current) if isinstance(current, BaseModel) else current), field: value}
        return grouped

    @model_validator(mode="after")
    def _names_are_distinct(self) -> Settings:
        if self.model.name in self.registry.models:
            raise ValueError(f"{self.model.name!r} names the default model (ASR_MODEL_NAME) and one of ASR_MODELS")
        return self

    def model_names(self) -> list[str]:
        """The served models' names, the default first."""
        return [self.model.name, *self.registry.models]

    def for_model(self, name: str) -> Settings:
        """The settings one model's backend runs with: these, with the model's own path, name, LM and decoder."""
        if name == self.model.name:
            return self
        spec = self.registry.models[name]
        return self.model_copy(
            update={
                "model": self.model.model_copy(
                    update={"path": spec.path, "name": name, "language": spec.language or self.model.language}
                ),
                "decoding": self.decoding.model_copy(
                    update={"lm_path": spec.lm_path, "decoder": spec.decoder or self.decoding.decoder}
                ),
                "registry": self.registry.model_copy(update={"models": {}}),
            }
        )


# Each group's field in Settings, and its model.
GROUPS: dict[str, type[SettingsGroup]] = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, SettingsGroup)
}

# Every setting by its flat name (its `ASR_*` variable, lower case and without the prefix) → (group, field); the
# few settings that belong to no group have the group "".
VARIABLES: dict[str, tuple[str, str]] = {
    group_cls.variable_name(field): (group, field)
    for group, group_cls in GROUPS.items()
    for field in group_cls.model_fields
} | {name: ("", name) for name in Settings.model_fields if name not in GROUPS}

# Variables read besides a setting's own, first found wins: ASR_MODEL is the short name of ASR_MODEL_PATH.
ENV_ALIASES: dict[str, tuple[str, ...]] = {"model_path": ("model", "model_path")}

_NAME_BY_PLACE = {place: name for name, place in VARIABLES.items()}


class FlatEnvironment(EnvSettingsSource):
    """Reads every setting from its flat variable (`ASR_STREAM_HOP_S`), not from one variable per group.

    pydantic-settings' own env source reads a nested model from `ASR_<GROUP>` as JSON or from `ASR_<GROUP>__<FIELD>`;
    the variables users set predate the groups, so this reads each field by its own name, with pydantic-settings'
    parsing (JSON for dicts, `NoDecode` fields as text).
    """

    def __call__(self) -> dict[str, Any]:
        # Grouped, so that a keyword argument (a flat name, placed after the sources merge) wins over it.
        values: dict[str, Any] = {}
        for name, (group, field_name) in VARIABLES.items():
            field = (GROUPS[group] if group else Settings).model_fields[field_name]
            for env_name in ENV_ALIASES.get(name, (name,)):
                value, _, is_complex = self.get_field_value(field, env_name)
                if value is not None:
                    value = self.prepare_field_value(env_name, field, value, is_complex)
                    if group:
                        values.setdefault(group, {})[field_name] = value
                    else:
                        values[field_name] = value
                    break
        return values


def _named_by_variable(error: ValidationError) -> ValidationError:
    """Returns `error` with each problem's place named as the user sets it (`stream_max_streams`, not
    `stream.max_streams`), so a bad ASR_* value or flag names the variable it came from."""
    problems: list[InitErrorDetails] = []
    for problem in error.errors():
        loc = problem["loc"]
        if len(loc) >= 2 and (loc[0], loc[1]) in _NAME_BY_PLACE:
            loc = (_NAME_BY_PLACE[(loc[0], loc[1])], *loc[2:])
        problems.append({"type": problem["type"], "loc": loc, "input": problem["input"], "ctx": problem.get("ctx", {})})
    return ValidationError.from_exception_data(error.title, problems)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
