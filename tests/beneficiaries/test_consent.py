"""No personal data without consent: a household that refuses is not registered, on any
path a registration takes (the API, a field app's sync, a file import)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.models import Individual
from shared.db import Database
from tests.beneficiaries.helpers import BASE, count, register
from tests.beneficiaries.payloads import household
from tests.beneficiaries.test_imports import (
    HEADER,
    REGISTRY_TABLES,
    errors_csv,
    run,
    synthetic,
    to_csv,
    upload,
)
from tests.support.apps import serve

REFUSED = {"given": False, "date": "2026-03-02", "scope": [], "method": "verbal"}


def refused() -> dict[str, Any]:
    return household(consent=REFUSED)


def assert_refused_for_consent(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["path"] == "body.consent.given"
    assert "consent" in error["message"]


async def test_a_household_without_consent_is_not_registered(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    assert_refused_for_consent(
        await registry.post(f"{BASE}/households", json=refused(), headers=registrar)
    )
    url = f"{BASE}/households/{uuid.uuid4()}"
    assert_refused_for_consent(await registry.put(url, json=refused(), headers=registrar))
    # Nor through consent left out: it must be answered.
    silent = household()
    del silent["consent"]
    unanswered = await registry.post(f"{BASE}/households", json=silent, headers=registrar)
    assert unanswered.status_code == 422
    assert await count(beneficiaries_db, HouseholdRow) == 0
    assert await count(beneficiaries_db, Individual) == 0


async def test_consent_is_not_withdrawn_by_editing_the_record(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    created = await register(registry, registrar, household())
    url = f"{BASE}/households/{created['id']}"
    headers = {**registrar, "If-Match": '"v1"'}
    assert_refused_for_consent(
        await registry.patch(url, json={"consent": REFUSED}, headers=headers)
    )
    assert_refused_for_consent(await registry.put(url, json=refused(), headers=headers))
    kept = (await registry.get(url, headers=registrar)).json()
    assert (kept["version"], kept["consent"]["given"]) == (1, True)


async def test_a_field_app_registration_without_consent_is_an_invalid_item(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    with_consent = household(id=str(uuid.uuid4()))
    without = household(id=str(uuid.uuid4()), consent=REFUSED)
    answer = await registry.post(
        f"{BASE}/sync/batch",
        json={
            "operations": [
                {"op": "household.put", "household_id": body["id"], "household": body}
                for body in (with_consent, without)
            ]
        },
        headers={**registrar, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 200, answer.text
    kept, refusal = answer.json()["results"]
    assert kept["status"] == "created"
    assert refusal["status"] == "invalid"
    assert refusal["household_id"] == without["id"]
    assert [e["path"] for e in refusal["errors"]] == ["household.consent.given"]
    assert await count(beneficiaries_db, HouseholdRow) == 1
    assert await count(beneficiaries_db, Individual) == len(with_consent["members"])


@pytest.fixture
async def committed_registry(
    registry_app: FastAPI, database_urls: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """An import commits in its own transactions: a real pool, emptied afterwards."""
    database = Database(database_urls["beneficiaries"], pool_size=5)
    try:
        async with serve(registry_app, database, "http://beneficiaries.test") as client:
            yield client
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {', '.join(REGISTRY_TABLES)} CASCADE"))
        await database.dispose()


async def test_an_imported_household_without_consent_is_a_row_error(
    committed_registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = synthetic(3)
    lines = to_csv(households).decode().splitlines()
    column = HEADER.index("consent_given")
    refusing = range(1, 1 + len(households[0]["members"]))  # the first household's rows
    for number in refusing:
        cells = next(csv.reader([lines[number]]))
        cells[column] = "non"
        buffer = io.StringIO()
        csv.writer(buffer).writerow(cells)
        lines[number] = buffer.getvalue().rstrip("\r\n")
    content = "\n".join(lines).encode()
    job = (await upload(committed_registry, manager, content, mode="valid_only")).json()
    finished = await run(committed_registry, registry_app, job["id"], manager)
    assert finished["households_created"] == 2
    problems = await errors_csv(committed_registry, job["id"], manager)
    assert [(p["row"], p["column"]) for p in problems] == [("2", "consent_given")]
    assert "consent" in problems[0]["message"]
