"""Filling a running stack's registry with the synthetic registry, straight through the bulk
writer (the same rows the API writes), for the registry benchmarks."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.common import Stopwatch
from bench.stack import activate_formula
from inds.stack import Stack
from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.pmt.service import active_formula
from services.beneficiaries.records.bulk import write_households
from services.beneficiaries.records.schemas import HouseholdWrite
from shared.settings import database_url_for


@dataclass
class Seeded:
    households: int = 0
    individuals: int = 0
    seconds: float = 0.0
    household_ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    # The planted re-registrations (kept out of the database) and who they duplicate.
    duplicates: list[tuple[dict[str, Any], str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"seeded {self.households} households, {self.individuals} people in "
            f"{self.seconds:.1f} s ({self.individuals / max(self.seconds, 1e-9):.0f} people/s, "
            "validation, keys, PMT and COPY included)"
        )


async def seed_registry(
    server_url: str, households: int, seed: int, duplicate_rate: float
) -> Seeded:
    engine = create_async_engine(database_url_for(server_url, "beneficiaries"))
    generator = RegistryGenerator(seed=seed, duplicate_rate=duplicate_rate)
    sample = random.Random(seed)
    result = Seeded()
    planted_households: dict[str, dict[str, Any]] = {}
    batch: list[HouseholdWrite] = []
    watch = Stopwatch()

    async def flush() -> None:
        async with engine.begin() as connection:
            session = AsyncSession(bind=connection)
            localities = await areas.get_many(session, {h.location.locality_code for h in batch})
            written = await write_households(
                session, batch, localities, actor="bench", formula=await active_formula(session)
            )
        result.households += written.households
        result.individuals += written.individuals
        batch.clear()

    planted_ids: set[str] = set()
    for household in generator.households(households):
        # A re-registration is planted before it is produced: the list only grows.
        planted_ids.update(p.duplicate_household_id for p in generator.planted[len(planted_ids) :])
        if household["id"] in planted_ids:
            planted_households[household["id"]] = household
            continue
        batch.append(HouseholdWrite.model_validate(household))
        if sample.random() < 0.05:
            result.household_ids.append(household["id"])
        if sample.random() < 0.02:
            person = sample.choice(household["members"])
            result.names.append(f"{person['given_name']} {person['father_name']}")
        if len(batch) >= 2000:
            await flush()
    if batch:
        await flush()
    result.seconds = watch.stop()
    for planted in generator.planted:
        household = planted_households.get(planted.duplicate_household_id)
        if household is not None:
            result.duplicates.append(
                (household, planted.original_individual_id, ",".join(planted.changes))
            )
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    return result


def seed_stack(stack: Stack, households: int, seed: int, duplicate_rate: float) -> Seeded:
    """Activate the benchmarks' PMT formula (the households written get scored), then fill
    the registry."""
    activate_formula(stack)
    assert stack.server_url is not None
    return asyncio.run(seed_registry(stack.server_url, households, seed, duplicate_rate))


async def _active_household_ids(server_url: str) -> list[str]:
    engine = create_async_engine(database_url_for(server_url, "beneficiaries"))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT id FROM household WHERE status = 'active' ORDER BY id")
            )
            return [str(row[0]) for row in rows]
    finally:
        await engine.dispose()


def active_household_ids(server_url: str) -> list[str]:
    """The ids of the registry's active households, in id order."""
    return asyncio.run(_active_household_ids(server_url))
