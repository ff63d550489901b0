"""The app-wide dependency that answers 422 to a query parameter the route does not declare.

FastAPI ignores unknown query parameters, so `?timestamps=true` or a misspelt `?response_fromat=text` would be
dropped silently and the caller would get a result they did not ask for. Each route's declared parameters (its
own and its dependencies') are known from its signature; anything else in the URL is refused, by name.
It runs on every FastAPI route (the API, `/`, `/docs`, `/redoc`); `/openapi.json` and the static files are
plain files that read no parameters.
"""

from __future__ import annotations

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

from service.errors import UnknownQueryParameterError

_DECLARED: dict[int, frozenset[str]] = {}


def declared_query_params(route: APIRoute) -> frozenset[str]:
    """Return the query parameter names `route` reads (aliases, as clients spell them), dependencies included."""

    def walk(dependant: Dependant) -> set[str]:
        names = {field.alias for field in dependant.query_params}
        for dependency in dependant.dependencies:
            names |= walk(dependency)
        return names

    return frozenset(walk(route.dependant))


async def reject_unknown_query_params(request: HTTPConnection) -> None:
    """FastAPI dependency: raise `UnknownQueryParameterError` (422) naming any undeclared query parameter.

    Typed `HTTPConnection`, not `Request`, so that the app-wide dependency also resolves for the WebSocket route
    (which it leaves alone: it is not an `APIRoute`).
    """
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute):
        return
    declared = _DECLARED.get(id(route))
    if declared is None:  # routes live as long as the app: each is walked once
        declared = _DECLARED[id(route)] = declared_query_params(route)
    unknown = sorted(set(request.query_params.keys()) - declared)
    if unknown:
        raise UnknownQueryParameterError(
            f"unknown query parameter {', '.join(repr(name) for name in unknown)} on {request.url.path}; "
            f"this route takes: {', '.join(sorted(declared)) or 'none'}",
            param=unknown[0],
        )
