"""Merging the services' OpenAPI documents into the gateway's own.

Each service already serves its paths under its public prefix (`/api/v1/<service>/...`), so
paths are taken as they are; a schema name two services use for different shapes is
prefixed with the service's name, and its references rewritten.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx

from shared.logs import get_logger

_log = get_logger("inds.gateway.openapi")
_REF_PREFIX = "#/components/schemas/"


class ServiceSpecs:
    """The services' documents, re-fetched at most every `ttl` seconds; the last good copy
    serves while a service is down."""

    def __init__(self, upstreams: dict[str, str], ttl_seconds: float = 60.0) -> None:
        self.upstreams = upstreams
        self.ttl = ttl_seconds
        self._specs: dict[str, dict[str, Any]] = {}
        self._fetched_at: dict[str, float] = {}

    async def get(self, client: httpx.AsyncClient) -> dict[str, dict[str, Any] | None]:
        result: dict[str, dict[str, Any] | None] = {}
        for name, url in self.upstreams.items():
            if time.monotonic() - self._fetched_at.get(name, float("-inf")) >= self.ttl:
                try:
                    response = await client.get(url.rstrip("/") + "/openapi.json", timeout=3.0)
                    response.raise_for_status()
                    self._specs[name] = response.json()
                    self._fetched_at[name] = time.monotonic()
                except (httpx.HTTPError, ValueError) as exc:
                    _log.warning(
                        "service openapi unavailable", service=name, error=type(exc).__name__
                    )
            result[name] = self._specs.get(name)
        return result


def merge(gateway: dict[str, Any], services: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    merged = copy.deepcopy(gateway)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components: dict[str, Any] = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    security_schemes: dict[str, Any] = components.setdefault("securitySchemes", {})
    missing: list[str] = []
    tags = {tag["name"] for tag in merged.get("tags", [])}
    operation_ids = set(_operation_ids(paths))

    for name, spec in services.items():
        if spec is None:
            missing.append(name)
            continue
        spec = copy.deepcopy(spec)
        prefix = f"/api/v1/{name}"
        renames = _clashing_names(spec.get("components", {}).get("schemas", {}), schemas, name)
        if renames:
            spec = _rename_refs(spec, renames)
        own_schemas = {
            renames.get(k, k): v for k, v in spec.get("components", {}).get("schemas", {}).items()
        }
        schemas.update(own_schemas)
        security_schemes.update(spec.get("components", {}).get("securitySchemes", {}))
        for path, item in spec.get("paths", {}).items():
            if path == prefix or path.startswith(prefix + "/"):
                # One operation id in the whole document (generated clients name their
                # functions after them): a name another service took gets its own prefix.
                for operation in _operations(item):
                    _declare_gateway_errors(operation)
                    if "operationId" not in operation:
                        continue
                    if operation["operationId"] in operation_ids:
                        operation["operationId"] = f"{name}_{operation['operationId']}"
                    operation_ids.add(operation["operationId"])
                paths[path] = item
        for tag in spec.get("tags", []):
            if tag["name"] not in tags:
                merged.setdefault("tags", []).append(tag)
                tags.add(tag["name"])

    if missing:
        info = merged.setdefault("info", {})
        info["description"] = (
            info.get("description", "")
            + "\n\n**Not shown (service unavailable): "
            + ", ".join(missing)
            + ".**"
        )
    return merged


# What the gateway itself answers on any proxied path, as problem details.
_GATEWAY_ERRORS = {
    "429": "Too many requests from this client: wait as long as Retry-After says.",
    "502": "The service answered with something that is not HTTP.",
    "503": "The service cannot be reached, or is not ready: retry later.",
    "504": "The service did not answer in time: the request may or may not have been done.",
}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": _REF_PREFIX + "Problem"}}}


def _declare_gateway_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for code, description in _GATEWAY_ERRORS.items():
        responses.setdefault(code, {"description": description, "content": _PROBLEM})


def _clashing_names(own: dict[str, Any], taken: dict[str, Any], service: str) -> dict[str, str]:
    """The service's schema names to prefix: each that names another shape in the document
    already, and then each that refers to a renamed one (its references rewritten, it is no
    longer the shape of the same name: `StatsCatalog` listing funding's `CatalogMeasure`
    must not replace the registry's), until no more change."""
    renames: dict[str, str] = {}
    while True:
        rewritten = _rename_refs(own, renames)
        more = {
            schema_name: f"{service.capitalize()}{schema_name}"
            for schema_name, schema in rewritten.items()
            if schema_name not in renames and schema_name in taken and taken[schema_name] != schema
        }
        if not more:
            return renames
        renames.update(more)


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [item[method] for method in _METHODS if isinstance(item.get(method), dict)]


def _operation_ids(paths: dict[str, Any]) -> list[str]:
    return [
        operation["operationId"]
        for item in paths.values()
        for operation in _operations(item)
        if "operationId" in operation
    ]


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX):
                target = value[len(_REF_PREFIX) :]
                out[key] = _REF_PREFIX + renames.get(target, target)
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node
