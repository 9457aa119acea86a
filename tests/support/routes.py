"""The operations the platform's apps really serve, and the roles their dependencies let
through: what the access table is checked against."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from services.beneficiaries.app import create_app as beneficiaries_app
from services.funding.app import create_app as funding_app
from services.gateway.access.openapi import HTTP_METHODS, describe_access
from services.gateway.access.table import AUTHENTICATED, METRICS, PUBLIC, Operation
from services.gateway.app import create_app as gateway_app
from services.gateway.docs.openapi import merge
from services.indicators.app import create_app as indicators_app
from shared.auth import RoleCheck, authenticated

BACKENDS: dict[str, Callable[[], FastAPI]] = {
    "beneficiaries": beneficiaries_app,
    "funding": funding_app,
    "indicators": indicators_app,
}


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # an included router, unflattened
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _calls(dependant: Dependant) -> Iterator[Any]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _who(route: APIRoute) -> tuple[str, ...] | str:
    calls = list(_calls(route.dependant))
    checks = [call.roles for call in calls if isinstance(call, RoleCheck)]
    if checks:
        return tuple(sorted(frozenset.intersection(*checks)))
    if authenticated in calls:
        return AUTHENTICATED
    return METRICS if route.path == "/metrics" else PUBLIC


def served_operations() -> list[Operation]:
    """Every operation the gateway answers itself or routes to a service (a service's own
    `/health` and `/metrics` are not reachable through it), with the roles its
    dependencies let through."""
    apps = {"gateway": gateway_app(), **{name: make() for name, make in BACKENDS.items()}}
    found = []
    for name, app in apps.items():
        for route in _api_routes(app.routes):
            if name != "gateway" and not route.path.startswith(f"/api/v1/{name}/"):
                continue
            found += [
                Operation(method, route.path, _who(route)) for method in sorted(route.methods)
            ]
    return found


def merged_openapi() -> dict[str, Any]:
    """The gateway's merged OpenAPI document as `/openapi.json` serves it, built from the
    apps in this process."""
    services = {name: make().openapi() for name, make in BACKENDS.items()}
    return describe_access(merge(gateway_app().openapi(), services))


def openapi_operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> operation, for every operation of an OpenAPI document."""
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }
