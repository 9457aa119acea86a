"""Demo data for `inds up --demo`: a small synthetic registry, a PMT formula, the PNSF
programme with some enrollments, and a few probable duplicates to resolve. Loaded once: a
registry that already holds households is left alone."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from inds.client import authenticated_client
from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.pmt.service import active_formula
from services.beneficiaries.records.bulk import write_households
from services.beneficiaries.records.schemas import HouseholdWrite
from shared.settings import database_url_for

BASE = "/api/v1/beneficiaries"
DEMO_FORMULA = {
    "name": "PMT 2025 (demo)",
    "description": "Illustrative coefficients, not the ministry's model.",
    "urban": {
        "intercept": 12.2,
        "terms": [
            {"variable": "log_household_size", "coefficient": -0.42},
            {"variable": "rooms_per_person", "coefficient": 0.3},
            {"variable": "asset:refrigerator", "coefficient": 0.25},
            {"variable": "asset:television", "coefficient": 0.15},
            {"variable": "wall_material", "equals": "cement", "coefficient": 0.18},
            {"variable": "water_source", "equals": "piped_dwelling", "coefficient": 0.2},
            {"variable": "head_female", "coefficient": -0.08},
        ],
    },
    "rural": {
        "intercept": 11.7,
        "terms": [
            {"variable": "log_household_size", "coefficient": -0.35},
            {"variable": "asset:goats", "coefficient": 0.12},
            {"variable": "asset:camels", "coefficient": 0.3},
            {"variable": "water_source", "equals": "surface", "coefficient": -0.2},
            {"variable": "has_disabled_member", "coefficient": -0.1},
        ],
    },
}
PNSF = {
    "code": "pnsf",
    "name_fr": "Programme National de Solidarité Famille",
    "name_en": "National Family Solidarity Programme",
    "pmt_max_consumption": 110_000,
    "benefit_amount": 30_000,
    "benefit_currency": "DJF",
    "benefit_period": "quarterly",
}


def load(gateway_url: str, admin_secret: str, server_url: str, households: int = 400) -> str:
    with authenticated_client(gateway_url, "admin", admin_secret) as client:
        existing = client.get(f"{BASE}/households", params={"limit": 1})
        existing.raise_for_status()
        if existing.json()["items"]:
            return "demo registry already loaded"
        formula = client.post(f"{BASE}/pmt-formulas", json=DEMO_FORMULA)
        formula.raise_for_status()
        client.post(f"{BASE}/pmt-formulas/{formula.json()['version']}/activate").raise_for_status()
        client.post(f"{BASE}/programmes", json=PNSF).raise_for_status()

        generator = RegistryGenerator(seed=2026, duplicate_rate=0.03)
        generated = list(generator.households(households))
        planted = {p.duplicate_household_id for p in generator.planted}
        regular = [HouseholdWrite.model_validate(h) for h in generated if h["id"] not in planted]
        asyncio.run(_write(server_url, regular))
        # Re-registrations go through the API, which flags them as probable duplicates.
        for household in generated:
            if household["id"] in planted:
                client.post(f"{BASE}/households", json=household)
        enrolled = 0
        for write in regular[:120]:
            answer = client.post(
                f"{BASE}/programmes/pnsf/enrollments", json={"household_id": str(write.id)}
            )
            enrolled += answer.status_code == 201
    return (
        f"demo registry: {len(generated)} households, PMT formula active, "
        f"{enrolled} households enrolled in PNSF, {len(planted)} probable duplicates to review"
    )


async def _write(server_url: str, households: list[HouseholdWrite]) -> None:
    engine = create_async_engine(database_url_for(server_url, "beneficiaries"))
    try:
        async with engine.begin() as connection:
            session = AsyncSession(bind=connection)
            localities = await areas.get_many(
                session, {h.location.locality_code for h in households}
            )
            await write_households(
                session, households, localities, actor="demo", formula=await active_formula(session)
            )
    finally:
        await engine.dispose()
