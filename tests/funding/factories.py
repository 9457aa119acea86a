"""Funding rows for tests, written straight through the models (for the reports, statistics
and IATI tests, which need a ledger to exist; the APIs that write it have their own tests).

Conversions are stored as the service stores them: through DJF at the rates given (by
default USD 177.72 and EUR 193.5 DJF from 2025-01-01), rounded once half away from zero.
The tests' expected figures are worked out by hand from the amounts, not by this code."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import (
    Agreement,
    ExchangeRate,
    Organisation,
    Participant,
    PaymentCycle,
    PaymentLine,
    Project,
    Tranche,
    Transaction,
)
from shared.money import Money

RATE_DAY = date(2025, 1, 1)
RATES = {"DJF": Decimal(1), "USD": Decimal("177.72"), "EUR": Decimal("193.5")}


def rate_of(currency: str) -> Decimal:
    return RATES[currency]


def in_djf_and_usd(amount: Money) -> tuple[int, int]:
    rate = rate_of(amount.currency)
    djf = amount.convert_through(rate, 1, "DJF")
    usd = amount.convert_through(rate, RATES["USD"], "USD")
    return djf.amount_minor, usd.amount_minor


async def add_organisation(
    session: AsyncSession,
    iati_identifier: str,
    name: str,
    type: str = "multilateral",
    partner_id: str | None = None,
    name_fr: str | None = None,
) -> Organisation:
    organisation = Organisation(
        id=uuid.uuid4(),
        iati_identifier=iati_identifier,
        name_fr=name_fr or name,
        name_en=name,
        type=type,
        country=None,
        partner_id=partner_id,
        created_by="test",
    )
    session.add(organisation)
    await session.flush()
    return organisation


async def add_project(
    session: AsyncSession,
    reporting_org: Organisation,
    iati_identifier: str,
    title_en: str,
    *,
    title_fr: str | None = None,
    status: int = 2,
    participants: Sequence[tuple[Organisation, int]] = (),
    programme_codes: Sequence[str] = (),
    **dates: Any,
) -> Project:
    project = Project(
        id=uuid.uuid4(),
        iati_identifier=iati_identifier,
        reporting_org_id=reporting_org.id,
        title_fr=title_fr or f"{title_en} (fr)",
        title_en=title_en,
        description=dates.pop("description", None),
        status=status,
        sector_code="16010",
        recipient_country="DJ",
        programme_codes=list(programme_codes),
        created_by="test",
        **dates,
    )
    session.add(project)
    await session.flush()
    for organisation, role in participants:
        session.add(Participant(project_id=project.id, organisation_id=organisation.id, role=role))
    await session.flush()
    return project


async def add_agreement(
    session: AsyncSession,
    project: Project,
    funder: Organisation,
    reference: str,
    committed: Money,
    signed: date,
    *,
    period: tuple[date, date] | None = None,
    status: str = "active",
    received: int = 0,
    reserved: int = 0,
    paid: int = 0,
    tranches: Sequence[tuple[date, int]] = (),
) -> Agreement:
    """`received`, `reserved`, `paid`: the agreement's counters, in its currency's minor
    units."""
    djf, usd = in_djf_and_usd(committed)
    agreement = Agreement(
        id=uuid.uuid4(),
        reference=reference,
        project_id=project.id,
        funder_id=funder.id,
        currency=committed.currency,
        committed_minor=committed.amount_minor,
        signed_date=signed,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        status=status,
        received_minor=received,
        reserved_minor=reserved,
        paid_minor=paid,
        committed_djf_minor=djf,
        committed_usd_minor=usd,
        rate_to_djf=rate_of(committed.currency),
        rate_date=None if committed.currency == "DJF" else RATE_DAY,
        usd_rate_to_djf=RATES["USD"],
        usd_rate_date=RATE_DAY,
        created_by="test",
    )
    session.add(agreement)
    await session.flush()
    for due, amount in tranches:
        session.add(
            Tranche(id=uuid.uuid4(), agreement_id=agreement.id, due_date=due, amount_minor=amount)
        )
    await session.flush()
    return agreement


async def add_transaction(
    session: AsyncSession,
    type: int,
    amount: Money,
    on: date,
    *,
    agreement: Agreement | None = None,
    project: Project | None = None,
    provider: Organisation | None = None,
    receiver: Organisation | None = None,
    description: str | None = None,
    reference: str | None = None,
    cycle: PaymentCycle | None = None,
    reverses: Transaction | None = None,
) -> Transaction:
    djf, usd = in_djf_and_usd(amount)
    transaction = Transaction(
        id=uuid.uuid4(),
        type=type,
        reference=reference,
        transaction_date=on,
        value_date=on,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        amount_djf_minor=djf,
        amount_usd_minor=usd,
        rate_to_djf=rate_of(amount.currency),
        rate_date=None if amount.currency == "DJF" else RATE_DAY,
        usd_rate_to_djf=RATES["USD"],
        usd_rate_date=RATE_DAY,
        agreement_id=agreement.id if agreement else None,
        agreement_amount_minor=None,
        project_id=project.id if project else (agreement.project_id if agreement else None),
        provider_org_id=provider.id if provider else None,
        receiver_org_id=receiver.id if receiver else None,
        description=description,
        payment_cycle_id=cycle.id if cycle else None,
        reverses_id=reverses.id if reverses else None,
        created_by="test",
    )
    session.add(transaction)
    await session.flush()
    return transaction


@dataclass
class Line:
    region: str
    status: str = "paid"
    amount_minor: int = 30_000
    given_name: str = "Fatouma"
    phone: str = "+25377123456"


async def add_cycle(
    session: AsyncSession,
    agreement: Agreement,
    programme: str,
    period: str,
    lines: Sequence[Line],
    *,
    status: str = "closed",
    build_status: str = "built",
    currency: str = "DJF",
    cycle_rate_to_djf: Decimal | None = None,
) -> PaymentCycle:
    """A payroll with its lines (total and counts as the lines say)."""
    cycle = PaymentCycle(
        id=uuid.uuid4(),
        programme_code=programme,
        period=period,
        agreement_id=agreement.id,
        currency=currency,
        benefit_minor=lines[0].amount_minor if lines else 0,
        status=status,
        build_status=build_status,
        lines_count=len(lines),
        total_minor=sum(line.amount_minor for line in lines),
        cycle_rate_to_djf=cycle_rate_to_djf,
        created_by="user:finance_officer",
    )
    session.add(cycle)
    await session.flush()
    for number, line in enumerate(lines, start=1):
        session.add(
            PaymentLine(
                cycle_id=cycle.id,
                line_no=number,
                reference=f"{cycle.id.hex[:12]}-{number:06d}",
                programme_code=programme,
                period=period,
                household_id=uuid.uuid4(),
                registry_number=f"DJ-{number:08d}",
                enrollment_id=uuid.uuid4(),
                payee_id=uuid.uuid4(),
                payee_given_name=line.given_name,
                payee_father_name="Ali",
                payee_grandfather_name="Farah",
                payee_phone=line.phone,
                region_code=line.region,
                amount_minor=line.amount_minor,
                currency=currency,
                status=line.status,
            )
        )
    await session.flush()
    return cycle


@dataclass
class SampleLedger:
    """The small funding picture the reports, statistics and IATI tests share (the figures
    each test expects are worked out in its module docstring)."""

    organisations: dict[str, Organisation]
    projects: dict[str, Project]
    agreements: dict[str, Agreement]
    transactions: dict[str, Transaction]
    cycles: dict[str, PaymentCycle]
    # Payees' names and phones: never in a statistics answer.
    secrets: list[str]


async def add_sample_ledger(session: AsyncSession) -> SampleLedger:
    """World Bank (two agreements on its cash-transfer project, USD then DJF), WFP (one on
    its country plan), UNICEF (a cancelled one), their transactions and four payrolls; the
    rates they were valued with, in force since RATE_DAY."""
    for currency in ("USD", "EUR"):
        session.add(
            ExchangeRate(
                currency=currency,
                rate_date=RATE_DAY,
                rate_to_djf=RATES[currency],
                source="test",
                created_by="test",
            )
        )
    wb = await add_organisation(
        session, "44000", "World Bank", partner_id="worldbank", name_fr="Banque mondiale"
    )
    wfp = await add_organisation(
        session,
        "XM-DAC-41140",
        "World Food Programme",
        type="un_agency",
        partner_id="wfp",
        name_fr="Programme alimentaire mondial",
    )
    unicef = await add_organisation(
        session, "XM-DAC-41122", "UNICEF", type="un_agency", partner_id="unicef"
    )
    adds = await add_organisation(
        session,
        "DJ-GOV-ADDS",
        "Djiboutian Agency for Social Development",
        type="government",
        name_fr="Agence djiboutienne de développement social",
    )
    provider = await add_organisation(
        session, "DJ-COMPANY-DMONEY", "D-Money", type="payment_provider"
    )
    p1 = await add_project(
        session,
        wb,
        "44000-P166220",
        "Integrated cash transfer and human capital project",
        title_fr="Projet de filets sociaux intégrés et de capital humain",
        participants=[(wb, 1), (adds, 4)],
        programme_codes=["pnsf"],
        planned_start=date(2025, 1, 1),
        actual_start=date(2025, 3, 1),
        planned_end=date(2027, 12, 31),
        description="IDA credit financing the PNSF cash transfers.",
    )
    p2 = await add_project(
        session,
        wfp,
        "XM-DAC-41140-DJ01",
        "Country strategic plan",
        title_fr="Plan stratégique de pays",
        participants=[(wfp, 2)],
        programme_codes=["refugee-cash"],
    )
    a1 = await add_agreement(
        session,
        p1,
        wb,
        "IDA-D123-DJ",
        Money(100_000_000, "USD"),
        date(2025, 3, 1),
        period=(date(2025, 3, 1), date(2026, 2, 28)),
        received=40_000_000,
        reserved=5_000_000,
        paid=10_000_000,
        tranches=[(date(2025, 4, 1), 40_000_000), (date(2025, 10, 1), 60_000_000)],
    )
    a2 = await add_agreement(
        session,
        p1,
        wb,
        "IDA-D124-DJ",
        Money(35_544_000, "DJF"),
        date(2026, 2, 1),
        period=(date(2026, 2, 1), date(2026, 12, 31)),
        received=17_772_000,
        paid=1_777_200,
    )
    a3 = await add_agreement(
        session,
        p2,
        wfp,
        "WFP-DJ01-2026",
        Money(17_772_000, "DJF"),
        date(2026, 5, 10),
        received=8_886_000,
    )
    a4 = await add_agreement(
        session,
        p2,
        unicef,
        "UNICEF-DJ-2026",
        Money(1_000_000, "DJF"),
        date(2026, 1, 15),
        status="cancelled",
    )
    c1 = await add_cycle(
        session,
        a2,
        "pnsf",
        "2026Q1",
        [
            *(Line("DJ-DJ") for _ in range(3)),
            Line("DJ-AS", given_name="Hibo", phone="+25377654321"),
            Line("DJ-AS", status="failed"),
        ],
    )
    c2 = await add_cycle(
        session, a2, "pnsf", "2026Q2", [Line("DJ-DJ", "pending")] * 2, status="draft"
    )
    c3 = await add_cycle(
        session,
        a3,
        "amu",
        "2026Q2",
        [Line("DJ-TA", "pending")],
        status="draft",
        build_status="building",
    )
    c4 = await add_cycle(
        session,
        a3,
        "refugee-cash",
        "2026Q2",
        [Line("DJ-OB", amount_minor=1_000), Line("DJ-OB", amount_minor=250)],
        status="reconciling",
        currency="USD",
        cycle_rate_to_djf=Decimal("177.72"),
    )
    t: dict[str, Transaction] = {}
    t["T1"] = await add_transaction(
        session,
        1,
        Money(40_000_000, "USD"),
        date(2025, 4, 1),
        agreement=a1,
        provider=wb,
        receiver=adds,
        description="IDA first tranche",
        reference="IDA-D123-DJ/1",
    )
    t["T2"] = await add_transaction(
        session,
        3,
        Money(26_658_000, "DJF"),
        date(2025, 9, 15),
        agreement=a1,
        provider=wb,
        receiver=provider,
    )
    t["T3"] = await add_transaction(
        session, 4, Money(17_772_000, "DJF"), date(2025, 10, 1), agreement=a1, provider=provider
    )
    t["T4"] = await add_transaction(
        session, 1, Money(17_772_000, "DJF"), date(2026, 2, 15), agreement=a2, provider=wb
    )
    t["T5"] = await add_transaction(
        session,
        3,
        Money(3_554_400, "DJF"),
        date(2026, 3, 1),
        agreement=a2,
        provider=wb,
        receiver=provider,
        cycle=c1,
    )
    t["T6"] = await add_transaction(
        session, 4, Money(1_777_200, "DJF"), date(2026, 4, 1), agreement=a2, cycle=c1
    )
    t["T7"] = await add_transaction(
        session, 4, Money(177_720, "DJF"), date(2026, 4, 5), agreement=a2, cycle=c1
    )
    t["T8"] = await add_transaction(
        session,
        4,
        Money(-177_720, "DJF"),
        date(2026, 4, 10),
        agreement=a2,
        cycle=c1,
        reverses=t["T7"],
    )
    t["T9"] = await add_transaction(
        session, 1, Money(8_886_000, "DJF"), date(2026, 6, 1), agreement=a3, provider=wfp
    )
    t["T10"] = await add_transaction(
        session, 3, Money(1_777_200, "DJF"), date(2026, 7, 1), project=p2, receiver=adds
    )
    t["T11"] = await add_transaction(
        session, 11, Money(17_772_000, "DJF"), date(2026, 5, 10), agreement=a3, provider=wfp
    )
    t["T12"] = await add_transaction(
        session,
        3,
        Money(1_000_000, "EUR"),
        date(2026, 8, 1),
        agreement=a3,
        provider=wfp,
        receiver=adds,
    )
    return SampleLedger(
        organisations={"wb": wb, "wfp": wfp, "unicef": unicef, "adds": adds, "provider": provider},
        projects={"P1": p1, "P2": p2},
        agreements={"A1": a1, "A2": a2, "A3": a3, "A4": a4},
        transactions=t,
        cycles={"C1": c1, "C2": c2, "C3": c3, "C4": c4},
        secrets=["Fatouma", "Hibo", "Farah", "+25377123456", "+25377654321", "DJ-0000000"],
    )
