"""A partner's exports: its agreement's households and people as CSV and JSON Lines,
exactly as its agreement shows them (pseudonyms, heads and sizes it covers), counted in its
usage and audited with the agreement."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.beneficiaries.models import AuditEvent, Household
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.world import (
    World,
    add_agreement,
    build,
    national_headed_refugee_household,
    partner,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

EXPORTS = f"{BASE}/partner/exports"


@pytest.fixture
async def world(beneficiaries_db: Database) -> World:
    return await build(beneficiaries_db)


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _jsonl(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


async def test_the_names_partner_exports_exactly_the_people_it_may_see(
    registry: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    agreement = await add_agreement(registry, tokens)
    headers = partner(tokens)
    names = [
        {"given_name": "Amina", "father_name": "Yusuf", "grandfather_name": "Abdi"},
        {"given_name": "Sagal", "father_name": "Amina", "grandfather_name": "Yusuf"},
    ]
    as_csv = await registry.get(f"{EXPORTS}/individuals.csv", headers=headers)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["cache-control"] == "no-store"
    assert _csv(as_csv) == names
    assert _jsonl(await registry.get(f"{EXPORTS}/individuals.jsonl", headers=headers)) == names
    # No household field in its agreement: nothing to export, and the refusal says so.
    households = await registry.get(f"{EXPORTS}/households.csv", headers=headers)
    assert households.status_code == 403
    assert "no households field" in households.json()["detail"]
    assert (await registry.get(f"{EXPORTS}/individuals.xlsx", headers=headers)).status_code == 422

    usage = await registry.get(
        f"{BASE}/agreements/{agreement['id']}/usage", headers=as_role(tokens, "data_manager")
    )
    assert usage.json()["records"] == 4  # two people, twice


async def test_a_household_export_names_only_covered_heads_and_counts_only_covered_members(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    beneficiaries_db: Database,
    world: World,
    tokens: TokenFactory,
) -> None:
    await national_headed_refugee_household(beneficiaries_db)
    agreement = await add_agreement(
        registry,
        tokens,
        allowed_fields=["registry_number", "member_count", "head_given_name", "region_code"],
    )
    headers = partner(tokens)
    rows = _jsonl(await registry.get(f"{EXPORTS}/households.jsonl", headers=headers))
    assert sorted((row["member_count"], row["head_given_name"]) for row in rows) == [
        (1, None),  # Fardoussa is a national: not named; only Ilhan counted
        (2, "Amina"),  # Nasra, the national spouse, not counted
    ]
    assert {row["region_code"] for row in rows} == {"DJ-OB"}
    # Registry numbers are this partner's pseudonyms, the same in every export.
    real = {number for _, number in await _registry_numbers(beneficiaries_db)}
    pseudonyms = {row["registry_number"] for row in rows}
    assert not pseudonyms & real
    again = _csv(await registry.get(f"{EXPORTS}/households.csv", headers=headers))
    assert {row["registry_number"] for row in again} == pseudonyms
    assert set(again[0]) == {"registry_number", "region_code", "member_count", "head_given_name"}

    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        exported = (
            await session.execute(select(AuditEvent).where(AuditEvent.action == "export"))
        ).scalars()
        details = [event.detail for event in exported]
    assert [d["agreement_id"] for d in details] == [agreement["id"]] * 2
    assert [d["rows"] for d in details] == [2, 2]


async def _registry_numbers(database: Database) -> list[tuple[Any, str]]:
    async with database.sessionmaker() as session:
        rows = await session.execute(select(Household.id, Household.registry_number))
        return [(household_id, number) for household_id, number in rows]
