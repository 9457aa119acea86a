"""Households written in bulk (imports, sync batches) are the households the API registers:
each one written both ways reads back the same, score included."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson

from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.pmt.service import active_formula
from services.beneficiaries.records.bulk import write_households
from services.beneficiaries.records.documents import household_document
from services.beneficiaries.records.schemas import HouseholdWrite
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

FORMULA = {
    "name": "equivalence",
    "urban": {
        "intercept": 12.1,
        "terms": [
            {"variable": "log_household_size", "coefficient": -0.35},
            {"variable": "members_under_5", "coefficient": -0.05},
            {"variable": "has_disabled_member", "coefficient": -0.1},
            {"variable": "asset:refrigerator", "coefficient": 0.3},
            {"variable": "wall_material", "equals": "cement", "coefficient": 0.2},
        ],
    },
    "rural": {
        "intercept": 11.6,
        "terms": [
            {"variable": "head_female", "coefficient": -0.08},
            {"variable": "asset:goats", "coefficient": 0.15},
            {"variable": "water_source", "equals": "surface", "coefficient": -0.2},
        ],
    },
}


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """What must agree: everything but the registry number (a sequence moves on) and when
    the score was computed."""
    document = dict(document)
    document.pop("registry_number")
    if document["pmt"] is not None:
        document["pmt"] = {k: v for k, v in document["pmt"].items() if k != "computed_at"}
    return document


async def test_a_household_written_in_bulk_reads_as_one_registered_through_the_api(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "data_manager")
    created = await registry.post(f"{BASE}/pmt-formulas", json=FORMULA, headers=manager)
    version = created.json()["version"]
    await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)

    generated = list(RegistryGenerator(seed=3, duplicate_rate=0).households(25))
    for sample in generated:
        data = HouseholdWrite.model_validate(sample)
        # Written in bulk, read, and taken back (a savepoint of the test's transaction)...
        async with beneficiaries_db.sessionmaker() as session:
            localities = await areas.get_many(session, {data.location.locality_code})
            formula = await active_formula(session)
            await write_households(
                session, [data], localities, actor="user:data_manager", formula=formula
            )
            written = await household_document(session, uuid.UUID(sample["id"]))
            await session.rollback()
        assert written is not None
        # ... then registered through the API.
        response = await registry.post(f"{BASE}/households", json=sample, headers=manager)
        assert response.status_code == 201, response.text
        assert _comparable(orjson.loads(written.json)) == _comparable(response.json())
        assert response.json()["pmt"] is not None


async def test_people_written_in_bulk_are_found_by_name(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    generated = list(RegistryGenerator(seed=4, duplicate_rate=0).households(300))
    households = [HouseholdWrite.model_validate(h) for h in generated]
    async with beneficiaries_db.sessionmaker() as session:
        localities = await areas.get_many(session, {h.location.locality_code for h in households})
        written = await write_households(
            session, households, localities, actor="import:test", formula=None
        )
        await session.commit()
    assert written.households == 300
    assert written.individuals == sum(len(h.members) for h in households)

    head = next(m for m in generated[17]["members"] if m["relationship_to_head"] == "head")
    found = await registry.get(
        f"{BASE}/individuals",
        params={"name": f"{head['given_name']} {head['father_name']}", "limit": 500},
        headers=as_role(tokens, "data_manager"),
    )
    assert head["id"] in {p["id"] for p in found.json()["items"]}
