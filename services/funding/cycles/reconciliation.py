"""Applying a provider's report to a sent payroll.

Idempotent twice over: the same file again is recognised by its SHA-256 and answered with
what it did the first time, changing nothing; a line reported in the status it has already
is counted as unchanged. A line may go from pending to paid, failed or reversed, and from
paid to reversed (the money came back); any other change of a line already settled is a
row error, never an overwrite, as is a line reference the cycle does not have.

The ledger moves with the lines, in the agreement's currency, with the rates fixed when the
cycle was approved, each line converted as it was when reserved: paid lines move their
reservation to paid, failed ones (and ones reversed before they were reported paid) give it
back, and payments reversed are no longer paid.

The transactions follow the money, in DJF and USD as well:
- paid to households: IATI expenditure, one transaction per date paid, valued on that date;
- a payment reversed: a negative expenditure of the date it was paid (the line keeps that
  date), valued with the rates of that day's expenditure, so the two net out exactly
  whatever rates were recorded since (as a transaction's reversal reuses its rates);
- money the provider does not keep paid out (failed lines, lines reversed before or after
  they were paid): a negative disbursement to the provider, valued with the rates of the
  cycle's disbursement on the day it was sent. The money is back in the agreement and those
  households may be paid by a later cycle, which disburses it again: disbursed stays what
  the provider was given to pay out, not twice.

Reports of one cycle are applied one at a time (the cycle's row is locked first).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements import ledger
from services.funding.cycles import report, repository, staging
from services.funding.cycles.schemas import ReconciliationResult, ReportRowError
from services.funding.cycles.service import WrongStatus, audit_change
from services.funding.models import Agreement, PaymentCycle, ReconciliationReport, Transaction
from services.funding.rates.service import Rate, convert, converted_with, stored_rates
from services.funding.transactions import service as transactions
from services.funding.vocabulary import DISBURSEMENT, EXPENDITURE, ReportedStatus
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clock import DJIBOUTI_TIME, today
from shared.money import Money

MAX_ROW_ERRORS = 1000


async def reconcile(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    cycle_id: uuid.UUID,
    content: bytes,
) -> ReconciliationResult:
    digest = hashlib.sha256(content).hexdigest()
    cycle = await repository.lock(session, cycle_id)
    if cycle.status not in ("sent", "reconciling"):
        raise WrongStatus(
            f"Reports are applied to sent cycles until they are closed; this one is "
            f"{cycle.status}.",
            status_now=cycle.status,
        )
    earlier = await repository.report_of_file(session, cycle_id, digest)
    if earlier is not None:
        return ReconciliationResult.model_validate(
            {**earlier.outcome, "already_applied": True, "cycle_status": cycle.status}
        )
    file_format, reported = await asyncio.to_thread(report.parse, content, today())
    agreement = await repository.agreement(session, cycle.agreement_id)
    assert agreement is not None

    await staging.stage_report(
        session,
        [
            (line.row, line.reference, line.status, line.provider_reference, line.settled_on)
            for line in reported
        ],
    )
    refused, error_count = await staging.refused_rows(session, cycle_id, MAX_ROW_ERRORS)
    unchanged = await staging.unchanged_rows(session, cycle_id)
    changes = await staging.apply_report(session, cycle_id)

    settled = _settle(cycle, agreement, changes)
    await ledger.settle(
        session,
        agreement.id,
        paid=settled.agreement_paid,
        released=settled.agreement_released,
        refunded=settled.agreement_refunded,
    )
    recorded = await _transactions(session, principal, audit, cycle, agreement, settled)
    if cycle.status == "sent":
        await repository.start_reconciling(session, cycle_id)

    report_id = uuid.uuid4()
    outcome = ReconciliationResult(
        report_id=report_id,
        cycle_id=cycle_id,
        file_format=file_format,
        file_sha256=digest,
        already_applied=False,
        rows=len(reported),
        applied=dict(settled.applied),
        unchanged=unchanged,
        errors=[_row_error(row) for row in refused],
        error_count=error_count,
        paid=Money(settled.paid_total, cycle.currency),
        refunded=Money(settled.refunded_total, cycle.currency),
        released=Money(settled.agreement_released, agreement.currency),
        transactions=recorded,
        cycle_status="reconciling",
    )
    repository.add_report(
        session,
        ReconciliationReport(
            id=report_id,
            cycle_id=cycle_id,
            file_sha256=digest,
            file_format=file_format,
            outcome=outcome.model_dump(mode="json", exclude={"already_applied", "cycle_status"}),
            created_by=principal.subject,
        ),
    )
    await session.flush()
    await audit_change(
        session,
        audit,
        principal,
        "reconcile",
        cycle,
        {"status": cycle.status},
        {
            "status": "reconciling",
            "applied": dict(settled.applied),
            "paid_minor": settled.paid_total,
            "refunded_minor": settled.refunded_total,
            "released_minor": settled.released_total,
            "agreement_paid_minor": settled.agreement_paid,
            "agreement_released_minor": settled.agreement_released,
            "agreement_refunded_minor": settled.agreement_refunded,
        },
        report_id=str(report_id),
        file_sha256=digest,
        unchanged=unchanged,
        errors=error_count,
    )
    return outcome


class _Settled:
    """What the applied changes add up to, in the cycle's and the agreement's currencies."""

    def __init__(self) -> None:
        self.applied: dict[ReportedStatus, int] = {"paid": 0, "failed": 0, "reversed": 0}
        self.paid_total = 0
        self.refunded_total = 0
        self.released_total = 0  # sent to the provider, never paid out
        self.returned_lines = 0  # failed, or reversed: no longer paid out by the provider
        self.agreement_paid = 0
        self.agreement_released = 0
        self.agreement_refunded = 0
        # date paid -> [in the cycle's currency, in the agreement's]
        self.paid_on: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        # date the reversed payments had been paid -> [the same]
        self.refunded_on: dict[date, list[int]] = defaultdict(lambda: [0, 0])


def _settle(cycle: PaymentCycle, agreement: Agreement, changes: list[staging.Change]) -> _Settled:
    assert cycle.cycle_rate_to_djf is not None and cycle.agreement_rate_to_djf is not None
    source = Rate(cycle.currency, Decimal(cycle.cycle_rate_to_djf), None)
    target = Rate(agreement.currency, Decimal(cycle.agreement_rate_to_djf), None)
    settled = _Settled()
    for change in changes:
        amount = change.amount_minor * change.lines
        # Each line as it was reserved: converted alone, then times the lines.
        in_agreement = (
            convert(Money(change.amount_minor, cycle.currency), source, target).amount_minor
            * change.lines
        )
        settled.applied[change.now] += change.lines
        if change.was == "pending" and change.now == "paid":
            settled.paid_total += amount
            settled.agreement_paid += in_agreement
            settled.paid_on[change.settled_on][0] += amount
            settled.paid_on[change.settled_on][1] += in_agreement
        elif change.was == "paid":  # reversed: the payment came back
            settled.refunded_total += amount
            settled.agreement_refunded += in_agreement
            settled.refunded_on[change.settled_on][0] += amount
            settled.refunded_on[change.settled_on][1] += in_agreement
            settled.returned_lines += change.lines
        else:  # failed, or reversed before it was ever reported paid: never paid
            settled.released_total += amount
            settled.returned_lines += change.lines
            settled.agreement_released += in_agreement
    return settled


async def _transactions(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    cycle: PaymentCycle,
    agreement: Agreement,
    settled: _Settled,
) -> list[uuid.UUID]:
    """What the report's changes record (module docstring): their ids."""
    recorded: list[uuid.UUID] = []
    day = today()

    async def add(
        type: int,
        value_date: date,
        amount: int,
        in_agreement: int,
        description: str,
        *,
        like: Transaction | None = None,
        provider_org_id: uuid.UUID | None,
        receiver_org_id: uuid.UUID | None = None,
    ) -> None:
        money = Money(amount, cycle.currency)
        transaction = await transactions.add(
            session,
            principal,
            audit,
            type=type,
            transaction_date=day,
            value_date=value_date,
            amount=money,
            agreement=agreement,
            agreement_amount=Money(in_agreement, agreement.currency),
            description=f"Payroll {cycle.reference}: {description}",
            reference=cycle.reference,
            payment_cycle_id=cycle.id,
            path="file.date",
            # Valued with the rates `like` was: a correction of it nets out with it.
            valued=converted_with(money, *stored_rates(like)) if like is not None else None,
            provider_org_id=provider_org_id,
            receiver_org_id=receiver_org_id,
        )
        recorded.append(transaction.id)

    provider = cycle.payment_provider_id
    for paid_on, (amount, in_agreement) in sorted(settled.paid_on.items()):
        await add(
            EXPENDITURE,
            paid_on,
            amount,
            in_agreement,
            f"paid to households on {paid_on.isoformat()}",
            provider_org_id=provider,
        )
    for paid_on, (amount, in_agreement) in sorted(settled.refunded_on.items()):
        await add(
            EXPENDITURE,
            paid_on,
            -amount,
            -in_agreement,
            f"payments of {paid_on.isoformat()} to households reversed",
            like=await repository.first_transaction(session, cycle.id, EXPENDITURE, paid_on),
            provider_org_id=provider,
        )
    if settled.returned_lines:
        sent = await repository.first_transaction(session, cycle.id, DISBURSEMENT)
        assert cycle.sent_at is not None
        await add(
            DISBURSEMENT,
            sent.value_date if sent else cycle.sent_at.astimezone(DJIBOUTI_TIME).date(),
            -(settled.released_total + settled.refunded_total),
            -(settled.agreement_released + settled.agreement_refunded),
            f"{settled.returned_lines} line(s) not paid out by the provider",
            like=sent,
            provider_org_id=agreement.funder_id,
            receiver_org_id=cycle.payment_provider_id,
        )
    return recorded


def _row_error(refused: staging.Refused) -> ReportRowError:
    if refused.current is None:
        return ReportRowError(
            row=refused.row,
            column="line_reference",
            message="no such line in this payment cycle",
        )
    return ReportRowError(
        row=refused.row,
        column="status",
        message=f"the line is {refused.current} already: it cannot become {refused.reported}",
    )
