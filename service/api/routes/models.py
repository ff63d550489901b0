"""`GET /v1/models`: the served models in OpenAI's list shape, each with its signature, sample rate and vocabulary."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request

from service.api.deps import ModelsDep
from service.api.schemas import ErrorBody, ListedModel, ModelList

router = APIRouter(prefix="/v1", tags=["models"])

OWNED_BY = "wav2vec2-asr"


@router.get(
    "/models",
    response_model=ModelList,
    responses={503: {"model": ErrorBody}, 504: {"model": ErrorBody}},
    summary="The served models, the default first (OpenAI's `models.list()` shape, with our fields per model)",
)
async def list_models(models: ModelsDep, request: Request) -> ModelList:
    listed = []
    for _, model in models.items():
        description = await model.describe()
        listed.append(
            ListedModel(
                **dataclasses.asdict(description),
                loaded=model.loaded,
                id=description.name,
                created=request.app.state.model_loaded_at,
                owned_by=OWNED_BY,
            )
        )
    return ModelList(data=listed)
