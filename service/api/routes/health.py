"""`/healthz` (the process answers) and `/readyz` (a transcription would reach a loaded model)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.errors import BackendUnavailableError
from service.api.deps import ModelsDep
from service.api.schemas import ErrorBody, Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": ErrorBody, "description": "Model not loaded / not AVAILABLE in TF Serving."}},
    summary="Readiness: every model is loaded (embedded) or AVAILABLE in TF Serving",
)
async def readyz(models: ModelsDep) -> Health:
    for name, backend in models.items():
        if not await backend.is_ready():
            raise BackendUnavailableError(f"the {backend.kind} backend has no model `{name}` ready")
    return Health(status="ready")
