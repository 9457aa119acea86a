"""Payment cycles: a programme's payroll built from the registry's active enrollments over
HTTP, approved by someone else against the agreement's money, sent, its payment file, its
lines and totals, cancelled before it is sent. (Reconciliation and the concurrency
invariants have files of their own; the helpers here serve them too.)"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text, update

from services.funding.clients.registry import RegistryClient
from services.funding.cycles import repository as cycles_repository
from services.funding.cycles.job import STALE_AFTER_SECONDS, run_pending
from services.funding.cycles.job import build as build_one
from services.funding.models import (
    Agreement,
    ExchangeRate,
    Organisation,
    PaymentCycle,
    PaymentLine,
    Project,
)
from shared.db import Database
from tests.beneficiaries.factories import Person, save_household
from tests.funding.payloads import PROGRAMMES, create_programme
from tests.support.funding import registry_client
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

CYCLES = "/api/v1/funding/payment-cycles"
USD_RATE = Decimal("177.721")


# -- helpers (the other test_cycles_* files use them too) -----------------------------------


@dataclass(frozen=True)
class Funds:
    agreement_id: uuid.UUID
    provider_id: uuid.UUID
    funder_id: uuid.UUID


async def add_funds(
    db: Database,
    *,
    received: int,
    currency: str = "DJF",
    status: str = "active",
    programmes: Sequence[str] = ("pnsf",),
) -> Funds:
    """An active agreement that has received `received` (minor units of `currency`) on a
    project financing `programmes`, its funder and a payment provider; a USD rate from
    2020 on (every transaction is also valued in USD)."""
    suffix = uuid.uuid4().hex[:10].upper()
    async with db.sessionmaker() as session:
        if not await session.scalar(
            select(ExchangeRate.id).where(
                ExchangeRate.currency == "USD", ExchangeRate.rate_date == date(2020, 1, 1)
            )
        ):
            session.add(
                ExchangeRate(
                    currency="USD", rate_date=date(2020, 1, 1), rate_to_djf=USD_RATE, source="BCD"
                )
            )
        funder = Organisation(
            id=uuid.uuid4(),
            iati_identifier=f"XM-DAC-{suffix}",
            name_fr="Banque mondiale",
            name_en="World Bank",
            type="multilateral",
        )
        provider = Organisation(
            id=uuid.uuid4(),
            iati_identifier=f"DJ-RCS-{suffix}",
            name_fr="D-Money",
            name_en="D-Money",
            type="payment_provider",
            country="DJ",
        )
        session.add_all([funder, provider])
        await session.flush()
        project = Project(
            id=uuid.uuid4(),
            iati_identifier=f"XM-DAC-{suffix}-P1",
            reporting_org_id=funder.id,
            title_fr="Filets sociaux",
            title_en="Safety nets",
            status=2,
            sector_code="16010",
            recipient_country="DJ",
            programme_codes=list(programmes),
        )
        session.add(project)
        await session.flush()
        agreement = Agreement(
            id=uuid.uuid4(),
            reference=f"AG-{suffix}",
            project_id=project.id,
            funder_id=funder.id,
            currency=currency,
            committed_minor=max(received, 1) * 10,
            signed_date=date(2026, 1, 1),
            status=status,
            received_minor=received,
            reserved_minor=0,
            paid_minor=0,
            committed_djf_minor=max(received, 1) * 10,
            committed_usd_minor=1,
            rate_to_djf=Decimal(1),
            usd_rate_to_djf=USD_RATE,
            usd_rate_date=date(2020, 1, 1),
        )
        session.add(agreement)
        await session.commit()
    return Funds(agreement.id, provider.id, funder.id)


async def balance(db: Database, agreement_id: uuid.UUID) -> dict[str, int]:
    async with db.sessionmaker() as session:
        agreement = await session.get(Agreement, agreement_id, populate_existing=True)
        assert agreement is not None
        return {
            "received": agreement.received_minor,
            "reserved": agreement.reserved_minor,
            "paid": agreement.paid_minor,
        }


def head(given: str, phone: str | None = None, **fields: Any) -> Person:
    return Person(given, identifiers=[("phone", phone)] if phone else [], **fields)


async def create_cycle(
    funding: httpx.AsyncClient,
    headers: dict[str, str],
    funds: Funds,
    programme: str = "pnsf",
    period: str = "2026Q3",
) -> dict[str, Any]:
    response = await funding.post(
        CYCLES,
        json={
            "programme": programme,
            "period": period,
            "agreement_id": str(funds.agreement_id),
            "payment_provider_id": str(funds.provider_id),
        },
        headers=headers,
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def build(app: FastAPI, database: Database, registry: RegistryClient | None = None) -> int:
    """Run the payroll builder as the app's poller would."""
    return await run_pending(
        database, app.state.settings, registry or app.state.registry, app.state.audit
    )


async def get_cycle(
    funding: httpx.AsyncClient, headers: dict[str, str], cycle_id: str
) -> dict[str, Any]:
    response = await funding.get(f"{CYCLES}/{cycle_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def act(
    funding: httpx.AsyncClient,
    cycle_id: str,
    action: str,
    headers: dict[str, str],
    **body: Any,
) -> httpx.Response:
    return await funding.post(
        f"{CYCLES}/{cycle_id}/{action}", json=body if body else None, headers=headers
    )


async def lines_of(db: Database, cycle_id: str) -> list[PaymentLine]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(PaymentLine)
            .where(PaymentLine.cycle_id == uuid.UUID(cycle_id))
            .order_by(PaymentLine.line_no)
        )
        return list(rows)


class CutOff(httpx.AsyncBaseTransport):
    """The registry, whose enrollment stream breaks after `after` lines (a connection
    reset part-way: the registry restarting, a network fault)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, after: int) -> None:
        self.inner = inner
        self.after = after

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/enrollments"):
            return response
        body = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        lines = body.splitlines(keepends=True)[: self.after]

        class Broken(httpx.AsyncByteStream):
            async def __aiter__(self) -> Any:
                for line in lines:
                    yield line
                raise httpx.ReadError("connection reset by peer", request=request)

        return httpx.Response(
            response.status_code, headers=response.headers, stream=Broken(), request=request
        )


class Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


@dataclass
class Payrolls:
    """What a payroll test drives, in one fixture (`payrolls`, tests/funding/conftest.py):
    the funding API with its app and database, the registry with its database, the token
    factory, an officer and an approver."""

    funding: httpx.AsyncClient
    registry: httpx.AsyncClient
    app: FastAPI
    db: Database
    beneficiaries_db: Database
    tokens: TokenFactory
    officer: dict[str, str]
    approver: dict[str, str]

    async def funded(self, households: int = 0, received: int = 1_000_000, **funds: Any) -> Funds:
        """The PNSF programme, `households` households enrolled in it and an agreement that
        has received `received` for it (`funds`: the other options of `add_funds`)."""
        await create_programme(self.registry, self.tokens)
        funded = await add_funds(self.db, received=received, **funds)
        await self.enroll_many(households)
        return funded

    async def enroll(
        self, members: list[Person], code: str = "pnsf", locality: str = "DJ-DJ-BALBALA-PK12"
    ) -> dict[str, Any]:
        """A household registered with `members` and enrolled in `code`: its id, registry
        number and enrollment id."""
        household = await save_household(self.beneficiaries_db, members, locality=locality)
        response = await self.registry.post(
            f"{PROGRAMMES}/{code}/enrollments",
            json={"household_id": str(household.id)},
            headers=as_role(self.tokens, "data_manager"),
        )
        assert response.status_code == 201, response.text
        return {
            "household_id": str(household.id),
            "registry_number": household.registry_number,
            "enrollment_id": response.json()["id"],
        }

    async def enroll_many(self, count: int, code: str = "pnsf") -> list[dict[str, Any]]:
        """`count` households of one head with a phone, enrolled in `code`."""
        return [
            await self.enroll([head(f"Head{n}", f"+2537700{n:04d}")], code) for n in range(count)
        ]

    async def built(
        self,
        funds: Funds,
        programme: str = "pnsf",
        period: str = "2026Q3",
        *,
        by: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A cycle created by `by` (default: the officer), its payroll built."""
        headers = by or self.officer
        created = await create_cycle(self.funding, headers, funds, programme, period)
        await build(self.app, self.db)
        cycle = await get_cycle(self.funding, headers, created["id"])
        assert cycle["build"]["status"] == "built", cycle["build"]
        return cycle

    async def send(self, cycle: dict[str, Any]) -> dict[str, Any]:
        """`cycle` approved by the approver, then sent by the officer: as sent."""
        approved = await act(self.funding, cycle["id"], "approve", self.approver)
        assert approved.status_code == 200, approved.text
        sent = await act(self.funding, cycle["id"], "send", self.officer)
        assert sent.status_code == 200, sent.text
        body: dict[str, Any] = sent.json()
        return body

    async def sent(
        self, households: int = 4, currency: str = "DJF"
    ) -> tuple[dict[str, Any], Funds, list[str]]:
        """A sent payroll of `households` lines of 30,000 DJF, on an agreement in `currency`
        that has received 1,000,000: the cycle, its funds and its line references."""
        funds = await self.funded(households, currency=currency)
        cycle = await self.send(await self.built(funds))
        return cycle, funds, [line.reference for line in await lines_of(self.db, cycle["id"])]


# -- creating and building ------------------------------------------------------------------


async def test_a_payroll_is_built_from_the_registrys_active_enrollments(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    funding_app: FastAPI,
    funding_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    funds = await payrolls.funded(received=10_000_000)
    first = await payrolls.enroll([head("Fatouma", "+25377123456", father_name="Said")])
    second = await payrolls.enroll([head("Amina", "+25377654321")], locality="DJ-OB-OBOCK-MARKAZI")
    # No head to pay; a head without a phone to pay on: left out, counted.
    await payrolls.enroll([Person("Ali", relationship_to_head="child")])
    await payrolls.enroll([head("Hodan")])
    suspended = await payrolls.enroll([head("Kadra", "+25377000999")])
    response = await registry.post(
        f"/api/v1/beneficiaries/enrollments/{suspended['enrollment_id']}/suspend",
        json={"reason": "moved away"},
        headers=as_role(tokens, "data_manager"),
    )
    assert response.status_code == 200, response.text

    response = await funding.post(
        CYCLES,
        json={
            "programme": "pnsf",
            "period": "2026Q3",
            "agreement_id": str(funds.agreement_id),
            "payment_provider_id": str(funds.provider_id),
        },
        headers=officer,
    )
    assert response.status_code == 202, response.text
    created = response.json()
    assert response.headers["Location"] == f"{CYCLES}/{created['id']}"
    assert (created["status"], created["build"]["status"]) == ("draft", "queued")
    assert created["benefit"] == {"amount_minor": 30_000, "currency": "DJF"}

    assert await build(funding_app, funding_db) == 1
    cycle = await get_cycle(funding, officer, created["id"])
    assert cycle["build"]["status"] == "built"
    assert cycle["build"]["enrollments_read"] == 4, "the suspended enrollment is not read"
    assert cycle["lines_count"] == 2
    assert cycle["total"] == {"amount_minor": 60_000, "currency": "DJF"}
    assert cycle["excluded"] == {"no_head": 1, "no_phone": 1}

    lines = await lines_of(funding_db, created["id"])
    by_number = sorted([first, second], key=lambda h: h["registry_number"])
    assert [str(line.household_id) for line in lines] == [h["household_id"] for h in by_number]
    assert [line.reference for line in lines] == [
        f"{cycle['reference']}-000001",
        f"{cycle['reference']}-000002",
    ]
    fatouma = next(line for line in lines if str(line.household_id) == first["household_id"])
    assert (fatouma.payee_given_name, fatouma.payee_father_name, fatouma.payee_phone) == (
        "Fatouma",
        "Said",
        "+25377123456",
    )
    assert str(fatouma.enrollment_id) == first["enrollment_id"]
    assert (fatouma.region_code, fatouma.amount_minor, fatouma.currency) == ("DJ-DJ", 30_000, "DJF")
    assert {line.region_code for line in lines} == {"DJ-DJ", "DJ-OB"}


async def test_a_cycle_needs_a_known_programme_its_period_and_an_active_agreement(
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    funding_app: FastAPI,
    funding_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    await create_programme(registry, tokens)
    await create_programme(registry, tokens, "cash-monthly", benefit_period="monthly")
    funds = await add_funds(funding_db, received=1_000_000, programmes=["pnsf", "cash-monthly"])
    closed = await add_funds(funding_db, received=1_000_000, status="closed")
    body = {"programme": "pnsf", "period": "2026Q3", "agreement_id": str(funds.agreement_id)}

    async def refused(change: dict[str, Any], status: int, path: str | None = None) -> None:
        response = await funding.post(CYCLES, json={**body, **change}, headers=officer)
        assert response.status_code == status, (change, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if path:
            assert path in [error["path"] for error in response.json()["errors"]], change

    await refused({"programme": "nope"}, 422, "body.programme")
    await refused({"period": "2026-07"}, 422, "body.period")
    await refused({"period": "2026Q5"}, 422, "body.period")
    await refused({"programme": "cash-monthly", "period": "2026Q3"}, 422, "body.period")
    await refused({"agreement_id": str(uuid.uuid4())}, 422, "body.agreement_id")
    await refused({"payment_provider_id": str(uuid.uuid4())}, 422, "body.payment_provider_id")
    await refused({"agreement_id": str(closed.agreement_id)}, 409)
    # An agreement whose project finances another programme pays no PNSF payroll.
    elsewhere = await add_funds(funding_db, received=1_000_000, programmes=["amu"])
    await refused({"agreement_id": str(elsewhere.agreement_id)}, 422, "body.agreement_id")
    response = await funding.post(
        CYCLES, json={**body, "agreement_id": str(elsewhere.agreement_id)}, headers=officer
    )
    assert response.json()["errors"] == [
        {
            "path": "body.agreement_id",
            "message": "the project of this agreement does not finance programme pnsf",
        }
    ]
    await refused({"amount_minor": 5}, 422)
    ok = await funding.post(
        CYCLES, json={**body, "programme": "cash-monthly", "period": "2026-07"}, headers=officer
    )
    assert ok.status_code == 202, ok.text

    for role in ("finance_approver", "analyst", "registrar"):
        response = await funding.post(CYCLES, json=body, headers=as_role(tokens, role))
        assert response.status_code == 403, role

    # The registry cannot be reached: a 503 to retry, and no cycle.
    working = funding_app.state.registry
    funding_app.state.registry = registry_client(tokens, Unreachable())
    try:
        response = await funding.post(CYCLES, json=body, headers=officer)
    finally:
        funding_app.state.registry = working
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    listed = await funding.get(CYCLES, params={"programme": "pnsf"}, headers=officer)
    assert listed.json()["items"] == []


async def test_a_retried_create_with_its_idempotency_key_makes_one_cycle(
    payrolls: Payrolls, funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    funds = await payrolls.funded()
    body = {"programme": "pnsf", "period": "2026Q3", "agreement_id": str(funds.agreement_id)}
    headers = officer | {"Idempotency-Key": "cycle-2026q3"}
    first = await funding.post(CYCLES, json=body, headers=headers)
    again = await funding.post(CYCLES, json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    listed = (await funding.get(CYCLES, headers=officer)).json()["items"]
    assert [item["id"] for item in listed] == [first.json()["id"]]


async def test_a_registry_outage_mid_build_leaves_nothing_and_the_build_can_be_retried(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    registry_app: FastAPI,
    funding_app: FastAPI,
    funding_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    funds = await payrolls.funded(5, received=10_000_000)
    created = await create_cycle(funding, officer, funds)
    # Batches of two: two of them are copied before the stream breaks on the fifth line.
    funding_app.state.settings = funding_app.state.settings.model_copy(
        update={"build_batch_size": 2}
    )
    broken = registry_client(tokens, CutOff(httpx.ASGITransport(app=registry_app), after=4))

    assert await build(funding_app, funding_db, broken) == 1
    cycle = await get_cycle(funding, officer, created["id"])
    assert cycle["build"]["status"] == "failed"
    assert "registry" in cycle["build"]["message"]
    assert "Nothing was kept" in cycle["build"]["message"]
    assert cycle["lines_count"] == 0
    assert await lines_of(funding_db, created["id"]) == [], "no half-built payroll"
    refused = await act(funding, created["id"], "approve", as_role(tokens, "finance_approver"))
    assert refused.status_code == 409

    # Retried once the registry answers: the whole payroll.
    retried = await act(funding, created["id"], "build", officer)
    assert retried.status_code == 202, retried.text
    assert retried.json()["build"]["status"] == "queued"
    assert await build(funding_app, funding_db) == 1
    cycle = await get_cycle(funding, officer, created["id"])
    assert (cycle["build"]["status"], cycle["build"]["enrollments_read"]) == ("built", 5)
    assert len(await lines_of(funding_db, created["id"])) == 5
    again = await act(funding, created["id"], "build", officer)
    assert again.status_code == 409, "only a failed build is queued again"


async def test_households_paid_or_held_by_another_open_cycle_are_left_out(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    funds = await payrolls.funded(3, received=10_000_000)
    first = await payrolls.built(funds)
    second = await payrolls.built(funds)
    assert (second["lines_count"], second["excluded"]) == (0, {"in_another_cycle": 3})
    empty = await act(funding, second["id"], "approve", approver)
    assert empty.status_code == 409, "nothing to approve"
    # Another period is another payroll.
    other = await payrolls.built(funds, period="2026Q4")
    assert other["lines_count"] == 3

    # Cancelled, the first cycle's lines let their households go.
    cancelled = await act(funding, first["id"], "cancel", officer, reason="wrong agreement")
    assert cancelled.status_code == 200, cancelled.text
    assert {line.status for line in await lines_of(funding_db, first["id"])} == {"cancelled"}
    third = await payrolls.built(funds)
    assert (third["lines_count"], third["excluded"]) == (3, {})


async def test_a_yearly_or_one_off_programme_names_its_periods_its_own_way(
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    funding_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    await create_programme(registry, tokens, "yearly", benefit_period="yearly")
    await create_programme(registry, tokens, "drought", benefit_period="one_off")
    funds = await add_funds(funding_db, received=1_000_000, programmes=["yearly", "drought"])
    assert (await create_cycle(funding, officer, funds, "yearly", "2026"))["period"] == "2026"
    assert (await create_cycle(funding, officer, funds, "drought", "2026-EID"))["period"] == (
        "2026-EID"
    )
    for programme, period in (("yearly", "2026Q1"), ("drought", "a label!")):
        response = await funding.post(
            CYCLES,
            json={
                "programme": programme,
                "period": period,
                "agreement_id": str(funds.agreement_id),
            },
            headers=officer,
        )
        assert response.status_code == 422, (programme, period)


async def test_a_build_whose_builder_stopped_beating_is_taken_over(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_app: FastAPI,
    funding_db: Database,
    officer: dict[str, str],
) -> None:
    funds = await payrolls.funded(2)
    created = await create_cycle(funding, officer, funds)
    # A builder claims the cycle and dies: its heartbeat stops.
    async with funding_db.sessionmaker() as session, session.begin():
        dead = await cycles_repository.claim_build(session, STALE_AFTER_SECONDS)
    assert dead is not None and str(dead.id) == created["id"]
    assert await build(funding_app, funding_db) == 0, "a beating build is left alone"
    async with funding_db.sessionmaker() as session, session.begin():
        await session.execute(
            update(PaymentCycle)
            .where(PaymentCycle.id == dead.id)
            .values(build_heartbeat_at=func.now() - timedelta(seconds=STALE_AFTER_SECONDS + 1))
        )

    assert await build(funding_app, funding_db) == 1
    cycle = await get_cycle(funding, officer, created["id"])
    assert (cycle["build"]["status"], cycle["lines_count"]) == ("built", 2)
    # The first builder, coming back to life, finds the build is no longer its own.
    await build_one(
        funding_db,
        funding_app.state.settings,
        funding_app.state.registry,
        funding_app.state.audit,
        dead,
    )
    assert len(await lines_of(funding_db, created["id"])) == 2
    assert (await get_cycle(funding, officer, created["id"]))["build"]["status"] == "built"


async def test_payment_lines_carry_only_the_indexes_their_queries_use(funding_db: Database) -> None:
    """Each index on payment_line is paid for by every line a build writes (100,000 in one
    statement): the key; (cycle, line number), which pages, payment files, totals and a
    cycle's lines are read by; the line reference a provider's report names; and the
    (programme, period, household) of pending and paid lines, which keeps a household paid
    once and is what a build looks up its households in. No query looks lines up by
    household alone."""
    async with funding_db.sessionmaker() as session:
        names = set(
            await session.scalars(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'payment_line'")
            )
        )
    assert names == {
        "pk_payment_line",
        "uq_payment_line_cycle_id_line_no",
        "uq_payment_line_reference",
        "uq_payment_line_household_period",
    }
