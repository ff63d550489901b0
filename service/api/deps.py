"""FastAPI dependencies: the app's settings, models and metrics, as `Annotated` aliases for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, UploadFile

from service.api.uploads import audio_upload
from service.config import Settings
from service.metrics import Metrics
from service.models.managed import ManagedModel
from service.models.registry import ModelRegistry


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_models(request: Request) -> ModelRegistry:
    return request.app.state.models


def requested_model(
    request: Request,
    model: Annotated[
        str | None, Query(description="The model to use, by its id in GET /v1/models; default: the first listed.")
    ] = None,
) -> ManagedModel:
    """The model `?model=` names (404 `model_not_found` for one not served), else the default."""
    return get_models(request).get(model)


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ModelsDep = Annotated[ModelRegistry, Depends(get_models)]
RequestedModelDep = Annotated[ManagedModel, Depends(requested_model)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
# The request's one audio file: a multipart `file` part or a raw audio/* body (service/api/uploads.py).
AudioUploadDep = Annotated[UploadFile, Depends(audio_upload)]
