"""Approving a payroll: four eyes, the conversion fixed, the money held.

The approver may not be whoever created the cycle. The rates of the approval date turn each
line into the agreement's currency (rates.service.convert, rounded line by line: what a
line settles for later is exactly what it reserved), and the sum is held on the agreement
by the ledger's conditional UPDATE. Both the cycle's status change and the reservation are
conditional UPDATEs in one transaction: of fifty approvals racing for money that covers
ten, the agreement's row lock lets them through one at a time and exactly ten find the
money; a second approval of the same cycle finds it approved already.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements import ledger
from services.funding.cycles import lines, repository
from services.funding.cycles.service import WrongStatus, audit_change
from services.funding.models import Agreement, PaymentCycle
from services.funding.rates.service import Rate, convert, rate_on
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clock import today
from shared.errors import Conflict, Forbidden
from shared.money import Money


class OwnCycle(Forbidden):
    type, title = "own-payment-cycle", "Four eyes: not your own payroll"


def reservation(groups: list[tuple[int, int]], source: Rate, target: Rate) -> Money:
    """The lines' total in `target`'s currency: each distinct amount converted once and
    multiplied by how many lines have it, which is the sum of the lines converted one by
    one."""
    total = Money.zero(target.currency)
    for amount_minor, count in groups:
        total += convert(Money(amount_minor, source.currency), source, target) * count
    return total


async def approve(
    session: AsyncSession, principal: Principal, audit: AuditTrail, cycle_id: uuid.UUID
) -> PaymentCycle:
    cycle = await repository.get(session, cycle_id)
    if cycle.created_by == principal.subject:
        raise OwnCycle("You created this payment cycle: another finance approver must approve it.")
    if cycle.status != "draft" or cycle.build_status != "built":
        what = f"its payroll is {cycle.build_status}" if cycle.status == "draft" else cycle.status
        raise WrongStatus(
            f"Only a draft whose payroll is built can be approved; this one: {what}.",
            status_now=cycle.status,
            build_status=cycle.build_status,
        )
    if cycle.lines_count == 0:
        raise WrongStatus("This payroll has no line: there is nothing to approve.")
    agreement = await repository.agreement(session, cycle.agreement_id)
    assert agreement is not None
    day = today()
    source = await rate_on(session, cycle.currency, day, "cycle.currency")
    target = await rate_on(session, agreement.currency, day, "agreement.currency")
    reserved = reservation(await lines.amount_groups(session, cycle_id), source, target)

    if not await repository.approve(
        session,
        cycle_id,
        approved_by=principal.subject,
        cycle_rate_to_djf=source.rate_to_djf,
        agreement_rate_to_djf=target.rate_to_djf,
        reserved_minor=reserved.amount_minor,
    ):
        now = await repository.get(session, cycle_id)
        raise WrongStatus(
            f"This cycle was {now.status} meanwhile: it can be approved once only.",
            status_now=now.status,
        )
    if not await ledger.reserve(session, agreement.id, reserved.amount_minor):
        # The transaction rolls back: the cycle stays a draft.
        raise _refusal(await repository.agreement(session, agreement.id), reserved)
    await audit_change(
        session,
        audit,
        principal,
        "approve",
        cycle,
        {"status": "draft"},
        {
            "status": "approved",
            "reserved_minor": reserved.amount_minor,
            "agreement_currency": agreement.currency,
            "total_minor": cycle.total_minor,
            "currency": cycle.currency,
            "cycle_rate_to_djf": str(source.rate_to_djf),
            "agreement_rate_to_djf": str(target.rate_to_djf),
        },
        agreement_id=str(agreement.id),
    )
    return await repository.get(session, cycle_id)


def _refusal(agreement: Agreement | None, needed: Money) -> Conflict:
    assert agreement is not None
    if agreement.status != "active":
        return Conflict(
            f"The agreement {agreement.reference} is {agreement.status}: nothing can be "
            "reserved on it."
        )
    available = Money(
        agreement.received_minor - agreement.reserved_minor - agreement.paid_minor,
        agreement.currency,
    )
    return ledger.InsufficientFunds(
        f"The agreement {agreement.reference} has only {available} available (received, less "
        f"what is reserved and paid); this payroll needs {needed}.",
        available=available,
        needed=needed,
    )
