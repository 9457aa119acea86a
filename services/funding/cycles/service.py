"""Payment cycles: one payroll of a programme for one period, charged to one agreement.

draft (its payroll built in the background) -> approved (funds reserved, approval.py) ->
sent (disbursed to the payment provider) -> reconciling (the provider's reports applied,
reconciliation.py) -> closed when no line is pending; cancelled from draft or approved only.
Every change is a conditional UPDATE of the cycle's row (repository.approve, send, cancel,
...) and is audited, before and after, in its own transaction. The payment file leaves the
ministry once the cycle is sent, never before: a cycle still approved may yet be cancelled
and its households put in another cycle, which must not find them paid by a file already
out.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements import ledger
from services.funding.clients.registry import RegistryClient
from services.funding.cycles import lines, repository
from services.funding.cycles.periods import check_period
from services.funding.cycles.schemas import CycleCreate, Line, Summary
from services.funding.cycles.views import line_view, summary_view
from services.funding.models import PaymentCycle
from services.funding.transactions import service as transactions
from services.funding.vocabulary import DISBURSEMENT
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clock import today
from shared.errors import Conflict, UnprocessableEntity
from shared.money import Money
from shared.pagination import Page, PageParams, page_of
from shared.xlsx import SHEET_ROWS


class WrongStatus(Conflict):
    type, title = "payment-cycle-status", "Not possible in the cycle's status"


# Whose payment file may be downloaded: sent (the provider pays from it), then reconciled.
FILE_STATUSES = ("sent", "reconciling", "closed")
_NOT_YET = {
    "draft": "approve it and send it first",
    "approved": "send it first",
    "cancelled": "it pays nobody",
}


async def audit_change(
    session: AsyncSession,
    audit: AuditTrail,
    principal: Principal,
    action: str,
    cycle: PaymentCycle,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    **detail: Any,
) -> None:
    """The cycle's change on the audit trail, before and after, in the change's transaction."""
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
    project = await repository.project(session, agreement.project_id)
    if project is None or programme.code not in project.programme_codes:
        raise UnprocessableEntity(
            f"The project of the agreement {agreement.reference} does not finance the "
            f"programme {programme.code}: a payroll is charged to an agreement of a project "
            "that finances it.",
            errors=[
                {
                    "path": "body.agreement_id",
                    "message": "the project of this agreement does not finance programme "
                    f"{programme.code}",
                }
            ],
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
    await audit_change(
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
    await audit_change(
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
    if not await repository.send(session, cycle_id, principal.subject):
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
        path="cycle.sent_at",
    )
    await audit_change(
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
    if was not in ("draft", "approved") or not await repository.cancel(
        session, cycle_id, was, reason
    ):
        raise WrongStatus(
            f"A cycle can be cancelled only before it is sent; this one is {was}.",
            status_now=was,
        )
    released = cycle.reserved_minor if was == "approved" else 0
    if released:
        await ledger.settle(session, cycle.agreement_id, released=released)
    let_go = await lines.cancel_pending(session, cycle_id)
    await audit_change(
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
    await repository.close(session, cycle_id)
    await audit_change(
        session, audit, principal, "close", cycle, {"status": "reconciling"}, {"status": "closed"}
    )
    return await repository.get(session, cycle_id)


# Reading payrolls


async def for_payment_file(
    session: AsyncSession, cycle_id: uuid.UUID, file_format: str
) -> PaymentCycle:
    """The cycle whose payment file is asked for, if it has one: 409 naming its status
    before it is sent; 409 for an XLSX the payroll would not fit in one worksheet of (the
    provider imports one sheet: the CSV has no limit)."""
    cycle = await repository.get(session, cycle_id)
    if cycle.status not in FILE_STATUSES:
        raise WrongStatus(
            "The payment file leaves the ministry once the cycle is sent; this one is "
            f"{cycle.status}: {_NOT_YET.get(cycle.status, 'send it first')}.",
            status_now=cycle.status,
        )
    if file_format == "xlsx" and cycle.lines_count >= SHEET_ROWS:  # and the header row
        raise WrongStatus(f"{cycle.lines_count} lines do not fit one worksheet: download the CSV.")
    return cycle


async def lines_page(
    session: AsyncSession,
    audit: AuditTrail,
    principal: Principal,
    cycle_id: uuid.UUID,
    params: PageParams,
    *,
    status: str | None,
    region: str | None,
) -> Page[Line]:
    """A page of the payroll's lines with their payees (finance staff only), each payee's
    read audited."""
    await repository.get(session, cycle_id)
    rows = await lines.page(session, cycle_id, params, status=status, region=region)
    page = page_of(rows, params, key=lambda line: [line.line_no])
    if page.items:
        await audit.record_reads(
            principal,
            "household",
            [(line.household_id, line.household_id) for line in page.items],
            detail={"via": "payment_lines", "cycle_id": str(cycle_id)},
        )
    return Page[Line](items=[line_view(line) for line in page.items], next_cursor=page.next_cursor)


async def summary(session: AsyncSession, cycle_id: uuid.UUID) -> Summary:
    cycle = await repository.get(session, cycle_id)
    return summary_view(cycle, await lines.totals(session, cycle_id))
