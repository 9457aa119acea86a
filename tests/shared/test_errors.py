"""Every non-2xx answer is problem+json with the request id; nothing leaks."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from shared.db import Database
from tests.shared.kit_app import BASE, PROBE, create_kit_app, kit_settings
from tests.support.apps import serve
from tests.support.tokens import TokenFactory


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_route_is_404(service: httpx.AsyncClient) -> None:
    body = assert_problem(await service.get(f"{BASE}/nowhere"), 404)
    assert body["instance"] == f"{BASE}/nowhere"


async def test_wrong_method_is_405(service: httpx.AsyncClient) -> None:
    response = await service.delete("/health")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_invalid_fields_are_422_with_their_paths(service: httpx.AsyncClient) -> None:
    response = await service.post(
        f"{PROBE}/payments", json={"household_id": "h1", "amount": "lots"}
    )
    body = assert_problem(response, 422)
    assert [error["path"] for error in body["errors"]] == ["body.amount"]
    assert "lots" not in response.text


async def test_malformed_json_is_400(service: httpx.AsyncClient) -> None:
    response = await service.post(
        f"{PROBE}/payments", content=b'{"amount": 3,', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert body["type"].endswith("/malformed-json")


async def test_oversized_body_is_413(service: httpx.AsyncClient) -> None:
    declared = await service.post(f"{PROBE}/payments", content=b"x" * 2001)
    assert_problem(declared, 413)

    async def chunks():  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b" " * 300

    streamed = await service.post(
        f"{PROBE}/payments", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413)


async def test_domain_errors_carry_their_extensions(service: httpx.AsyncClient) -> None:
    body = assert_problem(await service.get(f"{PROBE}/conflict"), 409)
    assert body["detail"] == "Household DJ-2026-000123 is already enrolled."
    assert body["existing_id"] == "abc"


async def test_unexpected_error_is_500_without_details_or_personal_data_in_logs(
    service: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    response = await service.get(f"{PROBE}/crash", headers={"X-Request-ID": "crash-1"})
    body = assert_problem(response, 500)
    assert "Fatouma" not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"] == "crash-1"

    logged = [
        json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")
    ]
    errors = [entry for entry in logged if entry.get("level") == "error"]
    assert errors and errors[0]["exception_type"] == "builtins.RuntimeError"
    assert errors[0]["request_id"] == "crash-1"
    assert not any("Fatouma" in json.dumps(entry) for entry in logged)


async def test_a_database_error_of_ours_stays_a_500(service: httpx.AsyncClient) -> None:
    """Only text PostgreSQL cannot store (422) and a dropped connection (503) are the
    database's errors answered otherwise."""
    body = assert_problem(await service.get(f"{PROBE}/database-error"), 500)
    assert "division" not in json.dumps(body)


async def test_a_database_that_cannot_be_reached_is_a_503_to_retry(
    tokens: TokenFactory, tmp_path: Path
) -> None:
    """Down, restarting or starting up: no connection opens, nothing is done, and the
    client is told to retry (the driver's OSError was a 500)."""
    gone = Database(f"postgresql+asyncpg://postgres@/postgres?host={tmp_path / 'no-server'}")
    app = create_kit_app(kit_settings(tokens))
    try:
        async with serve(app, gone, "http://kit.test") as client:
            response = await client.get(f"{PROBE}/database-error")
    finally:
        await gone.dispose()
    body = assert_problem(response, 503)
    assert body["type"].endswith("/database-unavailable")
    assert response.headers["retry-after"] == "1"


async def test_a_failed_request_writes_nothing(
    service: httpx.AsyncClient, beneficiaries_db: Database
) -> None:
    assert_problem(await service.post(f"{PROBE}/write-then-fail"), 409)
    async with beneficiaries_db.sessionmaker() as session:
        exists = await session.scalar(text("SELECT to_regclass('probe_written') IS NOT NULL"))
    assert exists is False


async def test_request_id_is_echoed_or_made(service: httpx.AsyncClient) -> None:
    given = await service.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await service.get("/health")
    assert len(made.headers["x-request-id"]) == 32
    unsafe = await service.get("/health", headers={"X-Request-ID": "x" * 300})
    assert unsafe.headers["x-request-id"] != "x" * 300


async def test_wrong_role_is_403_and_right_role_passes(
    service: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    denied = await service.get(f"{PROBE}/finance", headers=tokens.bearer(roles=["analyst"]))
    assert_problem(denied, 403)
    allowed = await service.get(
        f"{PROBE}/finance", headers=tokens.bearer(roles=["finance_officer"])
    )
    assert allowed.status_code == 200
