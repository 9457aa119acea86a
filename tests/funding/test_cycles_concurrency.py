"""The payroll invariants under real concurrency: many connections at once against a funding
database whose writes really commit (one of this module's own, dropped at the end), not a
rolled-back test transaction.

- 50 approvals at once against money for 10 payrolls: exactly 10 approved, 40 refused with
  a clear 409, the agreement reserving exactly what it received;
- one payroll approved by several approvers at once: approved once, reserved once;
- two payrolls of the same programme and period built at once: no household in both;
- a household taken by a writer that never waited its turn (an uncommitted line): the
  partial unique index still keeps it out, and it is counted.

The registry here is a stand-in served over httpx from memory, so that builds can stream
side by side (the in-process registry shares one test connection).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.funding.app import create_app
from services.funding.models import PaymentCycle, PaymentLine
from shared.db import Database
from tests.funding.test_cycles import CYCLES, Funds, act, add_funds, balance, build, create_cycle
from tests.support.apps import serve
from tests.support.databases import migrated_databases
from tests.support.funding import funding_settings, registry_client
from tests.support.tokens import TokenFactory


class Registry:
    """Programmes and their enrollments, answered as the registry answers them; the
    enrollment stream yields to the event loop between lines, like a network read."""

    def __init__(self) -> None:
        self.programmes: dict[str, dict[str, Any]] = {}
        self.enrollments: dict[str, list[dict[str, Any]]] = {}
        # The stream stops after `pause_after` lines until `gate` is set.
        self.pause_after: int | None = None
        self.gate = asyncio.Event()

    def add(self, households: int, **benefit: Any) -> tuple[str, list[str]]:
        code = f"p-{uuid.uuid4().hex[:8]}"
        self.programmes[code] = {
            "code": code,
            "name_fr": "Programme",
            "name_en": "Programme",
            "status": "active",
            "benefit_amount": 10_000,
            "benefit_currency": "DJF",
            "benefit_period": "one_off",
            **benefit,
        }
        self.enrollments[code] = [
            {
                "enrollment_id": str(uuid.uuid4()),
                "household_id": str(uuid.uuid4()),
                "registry_number": f"DJ-2026-{n:06d}",
                "programme": code,
                "status": "active",
                "enrolled_on": "2026-01-05",
                "region_code": "DJ-DJ",
                "locality_code": "DJ-DJ-BALBALA-PK12",
                "head": {
                    "individual_id": str(uuid.uuid4()),
                    "given_name": f"Head{n}",
                    "father_name": "Ali",
                    "grandfather_name": "Farah",
                    "phone": f"+2537700{n:04d}",
                },
            }
            for n in range(households)
        ]
        return code, [line["household_id"] for line in self.enrollments[code]]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")  # /api/v1/beneficiaries/programmes/{code}[/...]
        code = parts[5]
        if code not in self.programmes:
            return httpx.Response(404, json={"type": "not-found", "status": 404})
        if parts[-1] != "enrollments":
            return httpx.Response(200, json=self.programmes[code])
        lines = self.enrollments[code]

        async def stream() -> AsyncIterator[bytes]:
            for number, line in enumerate(lines):
                if number == self.pause_after:
                    await self.gate.wait()
                await asyncio.sleep(0)
                yield orjson.dumps(line) + b"\n"

        return httpx.Response(200, content=stream())


@pytest.fixture(scope="module")
async def committed_url(postgres_url: str) -> AsyncIterator[str]:
    name = f"inds_test_{uuid.uuid4().hex[:8]}_funding_race"
    async with migrated_databases(postgres_url, {"funding": name}) as urls:
        yield urls["funding"]


@pytest.fixture
async def committed(committed_url: str) -> AsyncIterator[Database]:
    database = Database(committed_url, pool_size=30, max_overflow=30)
    yield database
    await database.dispose()


@pytest.fixture
def stand_in() -> Registry:
    return Registry()


@pytest.fixture
def race_app(tokens: TokenFactory, stand_in: Registry) -> FastAPI:
    app = create_app(funding_settings(tokens, build_batch_size=50))
    app.state.registry = registry_client(tokens, httpx.MockTransport(stand_in))
    return app


@pytest.fixture
async def funding(race_app: FastAPI, committed: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(race_app, committed, "http://funding.test") as client:
        yield client


async def new_cycle(
    funding: httpx.AsyncClient, officer: dict[str, str], funds: Funds, code: str, period: str
) -> str:
    cycle_id: str = (await create_cycle(funding, officer, funds, code, period))["id"]
    return cycle_id


async def test_fifty_approvals_against_money_for_ten_approve_exactly_ten(
    funding: httpx.AsyncClient,
    race_app: FastAPI,
    committed: Database,
    stand_in: Registry,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    code, _ = stand_in.add(1)
    funds = await add_funds(committed, received=100_000, programmes=[code])
    ids = [await new_cycle(funding, officer, funds, code, f"R{n:02d}") for n in range(50)]
    assert await build(race_app, committed) == 50

    answers = await asyncio.gather(
        *(act(funding, cycle_id, "approve", approver) for cycle_id in ids)
    )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 10, statuses
    assert statuses.count(409) == 40, statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["type"].endswith("/insufficient-funds")
            assert "available" in answer.json()["detail"]
    assert await balance(committed, funds.agreement_id) == {
        "received": 100_000,
        "reserved": 100_000,
        "paid": 0,
    }
    async with committed.sessionmaker() as session:
        approved = await session.scalar(
            select(func.count())
            .select_from(PaymentCycle)
            .where(PaymentCycle.programme_code == code, PaymentCycle.status == "approved")
        )
    assert approved == 10


async def test_a_cycle_approved_by_several_at_once_is_approved_and_reserved_once(
    funding: httpx.AsyncClient,
    race_app: FastAPI,
    committed: Database,
    stand_in: Registry,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    code, _ = stand_in.add(3)
    funds = await add_funds(committed, received=1_000_000, programmes=[code])
    cycle_id = await new_cycle(funding, officer, funds, code, "2026")
    assert await build(race_app, committed) == 1
    approvers = [
        tokens.bearer(sub=f"user:approver-{n}", roles=["finance_approver"]) for n in range(8)
    ]
    answers = await asyncio.gather(*(act(funding, cycle_id, "approve", a) for a in approvers))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * 7
    assert (await balance(committed, funds.agreement_id))["reserved"] == 30_000


async def test_two_payrolls_built_at_once_never_hold_the_same_household(
    funding: httpx.AsyncClient,
    race_app: FastAPI,
    committed: Database,
    stand_in: Registry,
    officer: dict[str, str],
) -> None:
    code, households = stand_in.add(300)
    funds = await add_funds(committed, received=10_000_000, programmes=[code])
    first = await new_cycle(funding, officer, funds, code, "2026-A")
    second = await new_cycle(funding, officer, funds, code, "2026-A")

    ran = await asyncio.gather(build(race_app, committed), build(race_app, committed))
    assert sum(ran) == 2
    async with committed.sessionmaker() as session:
        cycles = {
            str(cycle.id): cycle
            for cycle in await session.scalars(
                select(PaymentCycle).where(PaymentCycle.id.in_([first, second]))
            )
        }
        held = (
            await session.execute(
                select(PaymentLine.household_id, func.count())
                .where(PaymentLine.programme_code == code, PaymentLine.period == "2026-A")
                .group_by(PaymentLine.household_id)
            )
        ).all()
    a, b = cycles[first], cycles[second]
    assert a.build_status == b.build_status == "built"
    # They did run side by side: each started before the other finished.
    assert a.build_started_at < b.build_finished_at and b.build_started_at < a.build_finished_at
    assert all(count == 1 for _, count in held), "no household in both payrolls"
    assert {str(household) for household, _ in held} == set(households)
    assert a.lines_count + b.lines_count == 300
    for cycle in (a, b):
        assert sum(cycle.excluded.values()) == 300 - cycle.lines_count, cycle.excluded


async def test_a_household_taken_by_a_writer_that_did_not_wait_is_still_paid_once(
    funding: httpx.AsyncClient,
    race_app: FastAPI,
    committed: Database,
    committed_url: str,
    stand_in: Registry,
    officer: dict[str, str],
) -> None:
    code, households = stand_in.add(3)
    funds = await add_funds(committed, received=1_000_000, programmes=[code])
    async with committed.sessionmaker() as session:
        other = PaymentCycle(
            programme_code=code,
            period="2026-B",
            agreement_id=funds.agreement_id,
            currency="DJF",
            benefit_minor=10_000,
            status="draft",
            build_status="built",
            excluded={},
            created_by="user:other",
        )
        session.add(other)
        await session.commit()
    engine = create_async_engine(committed_url, poolclass=NullPool)
    try:
        async with engine.connect() as writer:
            # An uncommitted line for the second household, written without the builders'
            # turn: the build's INSERT must wait for it, then leave the household out.
            await writer.execute(
                PaymentLine.__table__.insert().values(
                    cycle_id=other.id,
                    line_no=1,
                    reference=f"{other.id.hex[:20]}-1",
                    programme_code=code,
                    period="2026-B",
                    household_id=uuid.UUID(households[1]),
                    registry_number="DJ-2026-000001",
                    enrollment_id=uuid.uuid4(),
                    region_code="DJ-DJ",
                    amount_minor=10_000,
                    currency="DJF",
                    status="pending",
                )
            )
            cycle_id = await new_cycle(funding, officer, funds, code, "2026-B")
            building = asyncio.create_task(build(race_app, committed))
            for _ in range(200):
                async with engine.connect() as probe:
                    waiting = await probe.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                    )
                if waiting or building.done():
                    break
                await asyncio.sleep(0.05)
            assert waiting == 1, "the build waits for the other writer's line"
            await writer.commit()
        assert await building == 1
    finally:
        await engine.dispose()

    async with committed.sessionmaker() as session:
        cycle = await session.get(PaymentCycle, uuid.UUID(cycle_id))
        mine = set(
            await session.scalars(
                select(PaymentLine.household_id).where(PaymentLine.cycle_id == cycle.id)  # type: ignore[union-attr]
            )
        )
    assert cycle is not None and cycle.build_status == "built"
    assert mine == {uuid.UUID(households[0]), uuid.UUID(households[2])}
    assert cycle.excluded == {"taken_by_concurrent_build": 1}
    assert cycle.lines_count == 2 and cycle.total_minor == 20_000


async def test_a_build_shows_its_progress_and_no_line_until_it_is_done(
    funding: httpx.AsyncClient,
    race_app: FastAPI,
    committed: Database,
    stand_in: Registry,
    officer: dict[str, str],
) -> None:
    code, _ = stand_in.add(120)
    stand_in.pause_after = 100
    funds = await add_funds(committed, received=10_000_000, programmes=[code])
    cycle_id = await new_cycle(funding, officer, funds, code, "2026-C")
    building = asyncio.create_task(build(race_app, committed))
    try:
        for _ in range(200):
            cycle = (await funding.get(f"{CYCLES}/{cycle_id}", headers=officer)).json()
            if cycle["build"]["enrollments_read"] == 100:
                break
            await asyncio.sleep(0.02)
        # Batches of 50: two are in, the third waits on the registry.
        assert cycle["build"]["status"] == "building"
        assert cycle["build"]["enrollments_read"] == 100
        assert cycle["build"]["heartbeat_at"] is not None
        async with committed.sessionmaker() as session:
            visible = await session.scalar(
                select(func.count())
                .select_from(PaymentLine)
                .where(PaymentLine.cycle_id == uuid.UUID(cycle_id))
            )
        assert visible == 0, "no line is seen before the payroll is complete"
    finally:
        stand_in.gate.set()
    assert await building == 1
    cycle = (await funding.get(f"{CYCLES}/{cycle_id}", headers=officer)).json()
    assert (cycle["build"]["status"], cycle["build"]["enrollments_read"]) == ("built", 120)
    assert cycle["lines_count"] == 120
