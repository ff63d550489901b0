"""`GET /v1/models`: the served model in OpenAI's list shape, with its signature, vocabulary and decoders."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.api.deps import BackendDep
from service.api.schemas import ErrorBody, ModelList

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
    # The backend knows the model; the OpenAI fields are the gateway's (when it loaded it, who serves it).
    card = info.model_copy(
        update={"id": info.name, "created": request.app.state.model_loaded_at, "owned_by": OWNED_BY}
    )
    return ModelList(data=[card], models=[card])
