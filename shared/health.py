"""`/health` (the process answers), `/ready` (its database answers) and `/metrics`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException

from shared import metrics
from shared.errors import Unauthorized, problem_response
from shared.logs import get_logger

_log = get_logger("inds.health")
HealthEndpoint = Callable[..., Awaitable[Any]]


async def liveness(request: Request) -> dict[str, str]:
    """The process answers."""
    return {"status": "ok", "service": request.app.title}


def operations_router(
    health: HealthEndpoint = liveness, metrics_settings: metrics.MetricsSettings | None = None
) -> APIRouter:
    """`/health` (by default: the process answers; the gateway passes its own), `/ready` and
    `/metrics` (guarded by `INDS_METRICS_TOKEN`: see `shared.metrics`)."""
    # Read when the app is built, so a malformed token stops the process at start.
    access = metrics_settings or metrics.MetricsSettings()

    async def prometheus_metrics(request: Request) -> Response:
        _check_metrics_access(request, access)
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    router = APIRouter(tags=["operations"])
    router.add_api_route("/health", health, methods=["GET"], summary="Health")
    router.add_api_route(
        "/ready",
        ready,
        methods=["GET"],
        summary="Readiness: the database answers",
        response_model=None,
    )
    router.add_api_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False)
    return router


async def ready(request: Request) -> dict[str, str] | Response:
    try:
        await request.app.state.database.ping()
    except Exception as exc:
        _log.warning("readiness check failed", error=type(exc).__name__)
        return problem_response(
            503,
            type="not-ready",
            title="Not ready",
            detail="The service's database does not answer.",
            instance="/ready",
        )
    return {"status": "ready", "service": request.app.title}


def _check_metrics_access(request: Request, access: metrics.MetricsSettings) -> None:
    if access.token is None:
        if request.app.state.settings.common.is_production:
            # Answered as an unknown route is: nothing tells a prober it exists.
            raise HTTPException(404)
        return
    if not metrics.token_matches(access.token, request.headers.get("authorization")):
        raise Unauthorized("/metrics needs the metrics bearer token.", error="invalid_token")
