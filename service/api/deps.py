"""FastAPI dependencies: the app's settings, backend and metrics, as `Annotated` aliases for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, UploadFile

from service.api.uploads import audio_upload
from service.backends import Backend
from service.core.config import Settings
from service.metrics import Metrics


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
BackendDep = Annotated[Backend, Depends(get_backend)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
# The request's one audio file: a multipart `file` part or a raw audio/* body (service/api/uploads.py).
AudioUploadDep = Annotated[UploadFile, Depends(audio_upload)]
