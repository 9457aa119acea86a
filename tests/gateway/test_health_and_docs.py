from __future__ import annotations

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.gateway.docs.openapi import merge
from shared.db import Database
from tests.support.apps import serve


async def test_health_reports_each_service(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["services"] == {
        "beneficiaries": "ready",
        "funding": "unavailable",
        "indicators": "unavailable",
    }
    assert body["status"] == "degraded"
    assert (await gateway.get("/ready")).json()["status"] == "ready"


async def test_metrics_are_prometheus_text(gateway: httpx.AsyncClient) -> None:
    await gateway.get("/health")
    response = await gateway.get("/metrics")
    assert response.status_code == 200
    assert "inds_http_requests_total" in response.text


async def test_openapi_merges_the_services_under_their_prefixes(gateway: httpx.AsyncClient) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    assert "/auth/token" in spec["paths"]
    assert "/api/v1/admin/clients" in spec["paths"]
    assert "/api/v1/beneficiaries/echo" in spec["paths"]
    assert "funding" in spec["info"]["description"]  # down, and said so

    # Errors are documented as what they are: problem details, a 422 included.
    token_errors = spec["paths"]["/auth/token"]["post"]["responses"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert token_errors["422"]["content"] == problem
    assert token_errors["401"]["content"] == problem
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]

    docs = await gateway.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


def test_merge_renames_clashing_schemas_and_rewrites_references() -> None:
    gateway = {
        "openapi": "3.1.0",
        "info": {"title": "g", "version": "1"},
        "paths": {"/auth/token": {}},
        "components": {"schemas": {"Page": {"type": "object", "title": "gateway page"}}},
    }
    ref = {"$ref": "#/components/schemas/Page"}
    service = {
        "paths": {
            "/api/v1/funding/projects": {
                "get": {"responses": {"200": {"content": {"a": {"schema": ref}}}}}
            },
            "/health": {"get": {}},
        },
        "components": {
            "schemas": {"Page": {"type": "object", "title": "funding page"}, "Project": {}}
        },
    }
    merged = merge(gateway, {"funding": service, "indicators": None})
    assert set(merged["paths"]) == {"/auth/token", "/api/v1/funding/projects"}
    schemas = merged["components"]["schemas"]
    assert schemas["Page"]["title"] == "gateway page"
    assert schemas["FundingPage"]["title"] == "funding page"
    assert "Project" in schemas
    operation = merged["paths"]["/api/v1/funding/projects"]["get"]
    assert operation["responses"]["200"]["content"]["a"]["schema"] == {
        "$ref": "#/components/schemas/FundingPage"
    }
    assert "indicators" in merged["info"]["description"]
    assert gateway["components"]["schemas"].keys() == {"Page"}, "the input is not modified"


def test_merge_keeps_a_schema_that_refers_to_another_services_namesake() -> None:
    """Both services have a `Catalog` listing `Measure`s of their own shape: the second
    service's `Catalog` (the same text, but its `Measure` renamed) must not replace the
    first's, whose operations would then be documented with the other's measures."""

    def service(path: str, measure: dict) -> dict:
        catalog = {"$ref": "#/components/schemas/Catalog"}
        return {
            "paths": {
                path: {"get": {"responses": {"200": {"content": {"a": {"schema": catalog}}}}}}
            },
            "components": {
                "schemas": {
                    "Catalog": {"items": {"$ref": "#/components/schemas/Measure"}},
                    "Measure": measure,
                }
            },
        }

    merged = merge(
        {"openapi": "3.1.0", "info": {"title": "g", "version": "1"}, "paths": {}},
        {
            "beneficiaries": service("/api/v1/beneficiaries/stats", {"title": "households"}),
            "funding": service("/api/v1/funding/stats", {"title": "payments"}),
        },
    )
    schemas = merged["components"]["schemas"]
    assert schemas["Catalog"]["items"] == {"$ref": "#/components/schemas/Measure"}
    assert schemas["Measure"] == {"title": "households"}
    assert schemas["FundingCatalog"]["items"] == {"$ref": "#/components/schemas/FundingMeasure"}
    assert schemas["FundingMeasure"] == {"title": "payments"}
    funding = merged["paths"]["/api/v1/funding/stats"]["get"]["responses"]["200"]
    assert funding["content"]["a"]["schema"] == {"$ref": "#/components/schemas/FundingCatalog"}


def test_merge_keeps_operation_ids_unique_across_services() -> None:
    def service(path: str) -> dict:
        return {"paths": {path: {"get": {"operationId": "get_statistics"}}}}

    merged = merge(
        {"openapi": "3.1.0", "info": {"title": "g", "version": "1"}, "paths": {}},
        {
            "beneficiaries": service("/api/v1/beneficiaries/stats"),
            "funding": service("/api/v1/funding/stats"),
        },
    )
    ids = [merged["paths"][path]["get"]["operationId"] for path in sorted(merged["paths"])]
    assert ids == ["get_statistics", "funding_get_statistics"]


async def test_the_gateways_metrics_need_the_metrics_token(
    monkeypatch: pytest.MonkeyPatch, gateway_db: Database, settings: GatewaySettings
) -> None:
    monkeypatch.setenv("INDS_METRICS_TOKEN", "gateway-scrape-token-0123456789")
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        assert (await gateway.get("/metrics")).status_code == 401
        scraped = await gateway.get(
            "/metrics", headers={"Authorization": "Bearer gateway-scrape-token-0123456789"}
        )
    assert scraped.status_code == 200
    assert "inds_http_requests_total" in scraped.text
