"""Households written in bulk are the same as households registered one by one."""

from __future__ import annotations

import httpx

from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.households.schemas import HouseholdWrite
from services.beneficiaries.imports.writer import write_households
from shared.db import Database
from tests.beneficiaries.conftest import as_role
from tests.beneficiaries.helpers import BASE
from tests.support.tokens import TokenFactory


async def test_bulk_written_households_read_like_registered_ones(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    generated = list(RegistryGenerator(seed=3, duplicate_rate=0).households(300))
    households = [HouseholdWrite.model_validate(h) for h in generated]
    async with beneficiaries_db.sessionmaker() as session:
        localities = await areas.get_many(session, {h.location.locality_code for h in households})
        written = await write_households(
            session, households, localities, actor="import:test", formula=None
        )
        await session.commit()
    assert written.households == 300
    assert written.individuals == sum(len(h.members) for h in households)

    manager = as_role(tokens, "data_manager")
    sample = generated[17]
    read = (await registry.get(f"{BASE}/households/{sample['id']}", headers=manager)).json()
    assert read["member_count"] == len(sample["members"])
    assert {m["id"] for m in read["members"]} == {m["id"] for m in sample["members"]}
    assert read["registry_number"].startswith("DJ-")

    head = next(m for m in sample["members"] if m["relationship_to_head"] == "head")
    found = await registry.get(
        f"{BASE}/individuals",
        params={"name": f"{head['given_name']} {head['father_name']}", "limit": 500},
        headers=manager,
    )
    assert head["id"] in {p["id"] for p in found.json()["items"]}
