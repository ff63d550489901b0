"""`GET /v1/models`: the served model in OpenAI's list shape, with its signature, sample rate and vocabulary."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request

from service.api.deps import BackendDep
from service.api.schemas import ErrorBody, ModelCard, ModelList

router = APIRouter(prefix="/v1", tags=["models"])

OWNED_BY = "wav2vec2-asr"


@router.get(
    "/models",
    response_model=ModelList,
    responses={503: {"model": ErrorBody}, 504: {"model": ErrorBody}},
    summary="The served model (OpenAI's `models.list()` shape, with our fields per model)",
)
async def list_models(backend: BackendDep, request: Request) -> ModelList:
    info = await backend.model_info()
    card = ModelCard(
        id=info.name,
        created=request.app.state.model_loaded_at,
        owned_by=OWNED_BY,
        backend=backend.kind,
        **dataclasses.asdict(info),
    )
    return ModelList(data=[card], models=[card])
