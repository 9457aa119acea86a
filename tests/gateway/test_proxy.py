from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import uvicorn

from services.gateway.app import create_app
from services.gateway.proxy.forwarder import UPSTREAM_IDLE_SECONDS
from shared.db import Database
from tests.support.apps import serve
from tests.support.gateway import ADMIN_SECRET, bearer_headers, gateway_settings

ECHO = "/api/v1/beneficiaries/echo"


async def test_request_reaches_the_service_as_sent(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await gateway.get(
        ECHO + "/caf%C3%A9%2Fx",
        params={"name": "Hassan", "region": "DJ-AS"},
        headers={**admin_headers, "X-Request-ID": "field-app-42"},
    )
    assert response.status_code == 200
    seen = response.json()
    assert seen["raw_path"] == ECHO + "/caf%C3%A9%2Fx"
    assert seen["query"] == "name=Hassan&region=DJ-AS"
    assert seen["headers"]["x-request-id"] == "field-app-42"
    assert seen["headers"]["authorization"] == admin_headers["Authorization"]
    assert seen["headers"]["x-forwarded-for"] == "203.0.113.7"
    assert response.headers["x-request-id"] == "field-app-42"
    assert response.headers["x-upstream"] == "echo"
    assert len(response.headers.get_list("date")) <= 1


async def test_a_query_that_is_not_text_stops_at_the_gateway(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for query in ("name=%00", "name=%ff"):
        response = await gateway.get(f"{ECHO}?{query}", headers=admin_headers)
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["path"] == "query.name"
        assert "x-upstream" not in response.headers, "the service never saw it"


async def test_bodies_go_through(gateway: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    payload = b"x" * 300_000
    posted = await gateway.post(ECHO, content=payload, headers=admin_headers)
    assert posted.json()["body_size"] == len(payload)
    assert posted.json()["method"] == "POST"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 10_000

    streamed = await gateway.put(ECHO, content=chunks(), headers=admin_headers)
    assert streamed.json()["body_size"] == 100_000


async def test_a_service_asking_for_a_quick_retry_is_retried_for_safe_requests_only(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    flaky = "/api/v1/beneficiaries/flaky"
    key = uuid.uuid4().hex  # the upstream refuses each key once
    read = await gateway.get(flaky, params={"key": key}, headers=admin_headers)
    assert (read.status_code, read.json()) == (200, {"answered": True})
    write = await gateway.post(flaky, params={"key": key}, headers=admin_headers)
    assert write.status_code == 503  # a write is the caller's to repeat
    assert write.headers["retry-after"] == "1"


async def test_service_problems_pass_through_unchanged(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await gateway.get("/api/v1/beneficiaries/problem", headers=admin_headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://example.org/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "x",
    }


async def test_long_answers_stream_whole(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await gateway.get(
        "/api/v1/beneficiaries/stream", params={"chunks": 40, "size": 65536}, headers=admin_headers
    )
    assert response.status_code == 200
    assert len(response.content) == 40 * 65536
    assert response.content[:1] == b"A" and response.content[-1:] == bytes([65 + 39 % 26])


async def test_no_or_bad_token_stops_at_the_gateway(gateway: httpx.AsyncClient) -> None:
    missing = await gateway.get(ECHO)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["request_id"] == missing.headers["x-request-id"]

    forged = await gateway.get(ECHO, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401


async def test_unreachable_service_is_503_and_others_still_answer(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    down = await gateway.get("/api/v1/funding/projects", headers=admin_headers)
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    problem = down.json()
    assert problem["type"].endswith("/service-unavailable")
    assert problem["request_id"] == down.headers["x-request-id"]
    assert "funding" in problem["detail"]

    posted = await gateway.post("/api/v1/indicators/runs", json={}, headers=admin_headers)
    assert posted.status_code == 503

    assert (await gateway.get(ECHO, headers=admin_headers)).status_code == 200


async def test_slow_service_is_504_after_the_route_timeout(
    gateway_db: Database, upstream_url: str
) -> None:
    settings = gateway_settings(upstream_url, route_timeouts={"/api/v1/beneficiaries/slow": 0.3})
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        auth = await bearer_headers(gateway, "admin", ADMIN_SECRET)
        response = await gateway.get(
            "/api/v1/beneficiaries/slow", params={"seconds": 5}, headers=auth
        )
        assert response.status_code == 504
        assert response.json()["type"].endswith("/gateway-timeout")
        # Other routes keep the default timeout.
        quick = await gateway.get("/api/v1/beneficiaries/slow", params={"seconds": 0}, headers=auth)
        assert quick.status_code == 200


async def test_oversized_bodies_are_413(gateway_db: Database, upstream_url: str) -> None:
    settings = gateway_settings(
        upstream_url, max_body_bytes=1000, body_limits={ECHO + "/big": 5000}
    )
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        auth = await bearer_headers(gateway, "admin", ADMIN_SECRET)
        declared = await gateway.post(ECHO, content=b"x" * 1001, headers=auth)
        assert declared.status_code == 413
        assert declared.headers["content-type"] == "application/problem+json"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"z" * 400

        undeclared = await gateway.post(ECHO, content=chunks(), headers=auth)
        assert undeclared.status_code == 413

        roomier = await gateway.post(ECHO + "/big", content=b"x" * 4000, headers=auth)
        assert roomier.status_code == 200


async def test_rate_limit_answers_429_with_retry_after(
    gateway_db: Database, upstream_url: str
) -> None:
    settings = gateway_settings(upstream_url, rate_limit_per_second=0.2, rate_limit_burst=3)
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        # The token request spends one of this address's three.
        auth = await bearer_headers(gateway, "admin", ADMIN_SECRET)
        statuses = [(await gateway.get(ECHO, headers=auth)).status_code for _ in range(4)]
        assert statuses[:3] == [200, 200, 200]
        assert statuses[3] == 429
        limited = await gateway.get(ECHO, headers=auth)
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["retry-after"]) >= 1
        # Liveness probes are never limited.
        assert (await gateway.get("/ready")).status_code == 200


def test_the_gateway_drops_idle_service_connections_before_the_service_closes_them() -> None:
    """A pooled connection kept idle past the service's keep-alive is one the service may
    be closing just as the gateway sends a POST on it (which cannot be retried): an error."""
    service = uvicorn.Config(app="services.beneficiaries.app:create_app")
    assert service.timeout_keep_alive > UPSTREAM_IDLE_SECONDS


async def test_only_what_the_access_table_opens_to_all_is_forwarded_without_a_token(
    gateway: httpx.AsyncClient,
) -> None:
    # The registry's DCI signing keys (this upstream has none: its own 404 comes back).
    keys = await gateway.get("/api/v1/beneficiaries/dci/.well-known/jwks.json")
    assert keys.status_code == 404, keys.text
    for method, path in (
        ("POST", "/api/v1/beneficiaries/dci/.well-known/jwks.json"),
        ("GET", "/api/v1/beneficiaries/dci/.well-known/jwks.json/x"),
        ("GET", ECHO),
    ):
        refused = await gateway.request(method, path)
        assert refused.status_code == 401, (method, path)
        assert "x-upstream" not in refused.headers
