"""Payment cycles: one payroll of a programme for one period, charged to one agreement.

draft (its payroll built in the background) -> approved (funds reserved, approval.py) ->
sent (disbursed to the payment provider) -> reconciling (the provider's reports applied,
reconciliation.py) -> closed when no line is pending; cancelled from draft or approved only.
Every change is a conditional UPDATE of the cycle's row (repository.move) and is audited,
before and after, in its own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements import ledger
from services.funding.clients.registry import RegistryClient
from services.funding.cycles import lines, repository
from services.funding.cycles.periods import check_period
from services.funding.cycles.schemas import (
    CycleCreate,
    Line,
    RegionTotals,
    StatusTotals,
    Summary,
)
from services.funding.cycles.views import line_view
from services.funding.models import PaymentCycle
from services.funding.transactions import service as transactions
from services.funding.vocabulary import DISBURSEMENT
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clock import today
from shared.errors import Conflict, UnprocessableEntity
from shared.money import Money
from shared.pagination import Page, PageParams, page_of


class WrongStatus(Conflict):
    type, title = "payment-cycle-status", "Not possible in the cycle's status"


async def record(
    session: AsyncSession,
    audit: AuditTrail,
    principal: Principal,
    action: str,
    cycle: PaymentCycle,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    **detail: Any,
) -> None:
    await audit.record_write(
        session,
        principal,
        action,
        "payment_cycle",
        cycle.id,
        detail={"reference": cycle.reference, "before": before, "after": after, **detail},
    )


async def create(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    registry: RegistryClient,
    data: CycleCreate,
) -> PaymentCycle:
    """A draft whose payroll is queued for building, with the programme's benefit as the
    registry states it now."""
    programme = await registry.programme(data.programme)
    if programme is None:
        raise UnprocessableEntity(
            f"The registry has no programme {data.programme!r}.",
            errors=[{"path": "body.programme", "message": "no such programme in the registry"}],
        )
    check_period(data.period, programme.benefit_period)
    if programme.status != "active":
        raise Conflict(f"The programme {programme.code} is {programme.status}: it pays no more.")
    if programme.benefit_amount <= 0:
        raise Conflict(f"The programme {programme.code} has no benefit to pay.")
    agreement = await repository.agreement(session, data.agreement_id)
    if agreement is None:
        raise UnprocessableEntity(
            "No such agreement.",
            errors=[{"path": "body.agreement_id", "message": "no such agreement"}],
        )
    if agreement.status != "active":
        raise Conflict(
            f"The agreement {agreement.reference} is {agreement.status}: no payroll can be "
            "charged to it."
        )
    if data.payment_provider_id is not None and not await repository.organisation_exists(
        session, data.payment_provider_id
    ):
        raise UnprocessableEntity(
            "No such organisation.",
            errors=[{"path": "body.payment_provider_id", "message": "no such organisation"}],
        )
    cycle = PaymentCycle(
        id=uuid.uuid4(),
        programme_code=programme.code,
        period=data.period,
        agreement_id=agreement.id,
        payment_provider_id=data.payment_provider_id,
        currency=programme.benefit_currency,
        benefit_minor=programme.benefit_amount,
        status="draft",
        build_status="queued",
        excluded={},
        created_by=principal.subject,
    )
    repository.add(session, cycle)
    await session.flush()
    await session.refresh(cycle)
    await record(
        session,
        audit,
        principal,
        "create",
        cycle,
        None,
        {
            "status": "draft",
            "programme": cycle.programme_code,
            "period": cycle.period,
            "agreement_id": str(cycle.agreement_id),
            "benefit_minor": cycle.benefit_minor,
            "currency": cycle.currency,
        },
    )
    return cycle


async def view(session: AsyncSession, cycle_id: uuid.UUID) -> tuple[PaymentCycle, str]:
    """The cycle and its agreement's currency (what its reservation is in)."""
    cycle = await repository.get(session, cycle_id)
    return cycle, await repository.currency_of(session, cycle.agreement_id)


async def list_cycles(
    session: AsyncSession,
    params: PageParams,
    *,
    programme: str | None,
    period: str | None,
    status: str | None,
) -> tuple[Page[PaymentCycle], dict[uuid.UUID, str]]:
    rows = await repository.list_cycles(
        session, params, programme=programme, period=period, status=status
    )
    page = page_of(rows, params, key=lambda cycle: [cycle.created_at, cycle.id])
    return page, await repository.with_currencies(session, page.items)


async def rebuild(
    session: AsyncSession, principal: Principal, audit: AuditTrail, cycle_id: uuid.UUID
) -> PaymentCycle:
    """A failed build queued again."""
    cycle = await repository.get(session, cycle_id)
    if not await repository.requeue(session, cycle_id):
        raise WrongStatus(
            f"Only a draft whose build failed can be built again; this one is {cycle.status} "
            f"and its build {cycle.build_status}.",
            status_now=cycle.status,
            build_status=cycle.build_status,
        )
    await record(
        session,
        audit,
        principal,
        "requeue_build",
        cycle,
        {"build_status": "failed"},
        {"build_status": "queued"},
    )
    return await repository.get(session, cycle_id)


async def send(
    session: AsyncSession, principal: Principal, audit: AuditTrail, cycle_id: uuid.UUID
) -> PaymentCycle:
    """approved -> sent: the payroll's total disbursed to the payment provider, as an IATI
    disbursement valued on the day it is sent."""
    cycle = await repository.get(session, cycle_id)
    if not await repository.move(
        session,
        cycle_id,
        ("approved",),
        status="sent",
        sent_by=principal.subject,
        sent_at=func.now(),
    ):
        raise WrongStatus(
            f"Only an approved cycle can be sent; this one is {cycle.status}.",
            status_now=cycle.status,
        )
    agreement = await repository.agreement(session, cycle.agreement_id)
    assert agreement is not None
    day = today()
    disbursement = await transactions.add(
        session,
        principal,
        audit,
        type=DISBURSEMENT,
        transaction_date=day,
        value_date=day,
        amount=Money(cycle.total_minor, cycle.currency),
        agreement=agreement,
        agreement_amount=Money(cycle.reserved_minor, agreement.currency),
        provider_org_id=agreement.funder_id,
        receiver_org_id=cycle.payment_provider_id,
        description=f"Payroll {cycle.reference}: {cycle.programme_code} {cycle.period}, "
        f"{cycle.lines_count} households",
        reference=cycle.reference,
        payment_cycle_id=cycle.id,
        path="send_date",
    )
    await record(
        session,
        audit,
        principal,
        "send",
        cycle,
        {"status": "approved"},
        {"status": "sent", "total_minor": cycle.total_minor, "currency": cycle.currency},
        transaction_id=str(disbursement.id),
    )
    return await repository.get(session, cycle_id)


async def cancel(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    cycle_id: uuid.UUID,
    reason: str,
) -> PaymentCycle:
    """draft or approved -> cancelled: an approved cycle's reservation goes back to the
    agreement, and the lines stop holding their households."""
    cycle = await repository.lock(session, cycle_id)
    was = cycle.status
    if was not in ("draft", "approved") or not await repository.move(
        session,
        cycle_id,
        (was,),
        status="cancelled",
        cancelled_at=func.now(),
        cancel_reason=reason,
        # A build still to come or under way is dropped (its builder finds it cancelled).
        build_status=case(
            (PaymentCycle.build_status.in_(("queued", "building")), "failed"),
            else_=PaymentCycle.build_status,
        ),
        build_message=case(
            (
                PaymentCycle.build_status.in_(("queued", "building")),
                "Cancelled before its payroll was built.",
            ),
            else_=PaymentCycle.build_message,
        ),
    ):
        raise WrongStatus(
            f"A cycle can be cancelled only before it is sent; this one is {was}.",
            status_now=was,
        )
    released = cycle.reserved_minor if was == "approved" else 0
    if released:
        await ledger.settle(session, cycle.agreement_id, released=released)
    let_go = await lines.cancel_pending(session, cycle_id)
    await record(
        session,
        audit,
        principal,
        "cancel",
        cycle,
        {"status": was, "reserved_minor": cycle.reserved_minor},
        {"status": "cancelled", "released_minor": released, "lines_cancelled": let_go},
        reason=reason,
    )
    return await repository.get(session, cycle_id)


async def close(
    session: AsyncSession, principal: Principal, audit: AuditTrail, cycle_id: uuid.UUID
) -> PaymentCycle:
    """reconciling -> closed, once the provider has reported on every line."""
    cycle = await repository.lock(session, cycle_id)
    if cycle.status != "reconciling":
        hint = " Apply the provider's report first." if cycle.status == "sent" else ""
        raise WrongStatus(
            f"Only a cycle being reconciled can be closed; this one is {cycle.status}.{hint}",
            status_now=cycle.status,
        )
    pending = await lines.count_pending(session, cycle_id)
    if pending:
        raise WrongStatus(
            f"{pending} line(s) are still pending: the provider has not reported on them.",
            pending=pending,
        )
    await repository.move(
        session, cycle_id, ("reconciling",), status="closed", closed_at=func.now()
    )
    await record(
        session, audit, principal, "close", cycle, {"status": "reconciling"}, {"status": "closed"}
    )
    return await repository.get(session, cycle_id)


# Reading lines


async def lines_page(
    session: AsyncSession,
    audit: AuditTrail,
    principal: Principal,
    cycle_id: uuid.UUID,
    params: PageParams,
    *,
    status: str | None,
    region: str | None,
    with_payee: bool,
) -> Page[Line]:
    await repository.get(session, cycle_id)
    rows = await lines.page(session, cycle_id, params, status=status, region=region)
    page = page_of(rows, params, key=lambda line: [line.line_no])
    if with_payee and page.items:
        await audit.record_reads(
            principal,
            "household",
            [(line.household_id, line.household_id) for line in page.items],
            detail={"via": "payment_lines", "cycle_id": str(cycle_id)},
        )
    return Page[Line](
        items=[line_view(line, with_payee) for line in page.items], next_cursor=page.next_cursor
    )


async def summary(session: AsyncSession, cycle_id: uuid.UUID) -> Summary:
    cycle = await repository.get(session, cycle_id)
    rows = await lines.totals(session, cycle_id)
    currency = cycle.currency

    def totals(selected: Sequence[Any]) -> list[StatusTotals]:
        return [
            StatusTotals(
                status=row.status, lines=row.lines, amount=Money(row.amount_minor, currency)
            )
            for row in selected
        ]

    by_status = totals([row for row in rows if row.all_regions and not row.all_statuses])
    by_region = [
        RegionTotals(
            region_code=row.region_code,
            lines=row.lines,
            amount=Money(row.amount_minor, currency),
            by_status=totals(
                [
                    other
                    for other in rows
                    if not other.all_regions
                    and not other.all_statuses
                    and other.region_code == row.region_code
                ]
            ),
        )
        for row in rows
        if row.all_statuses and not row.all_regions
    ]
    return Summary(
        cycle_id=cycle.id,
        reference=cycle.reference,
        status=cycle.status,  # type: ignore[arg-type]
        lines=sum(item.lines for item in by_status),
        amount=sum((item.amount for item in by_status), Money.zero(currency)),
        by_status=by_status,
        by_region=by_region,
    )
