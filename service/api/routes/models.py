"""`GET /v1/models`: what model answers, its signature, sample rate, vocabulary and decoders."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import BackendDep
from service.api.schemas import ErrorBody, ModelList

router = APIRouter(prefix="/v1", tags=["models"])


@router.get(
    "/models",
    response_model=ModelList,
    responses={503: {"model": ErrorBody}, 504: {"model": ErrorBody}},
    summary="The served model",
)
async def list_models(backend: BackendDep) -> ModelList:
    return ModelList(models=[await backend.model_info()])
