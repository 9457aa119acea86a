"""Applying a provider's report to a sent payroll.

Idempotent twice over: the same file again is recognised by its SHA-256 and answered with
what it did the first time, changing nothing; a line reported in the status it has already
is counted as unchanged. A line may go from pending to paid, failed or reversed, and from
paid to reversed (the money came back); any other change of a line already settled is a
row error, never an overwrite, as is a line reference the cycle does not have.

The ledger moves with the lines, in the agreement's currency, with the rates fixed when the
cycle was approved, each line converted as it was when reserved: paid lines move their
reservation to paid, failed ones (and ones reversed before they were reported paid) give it
back, and payments reversed are no longer paid. The money paid to households is recorded
as IATI expenditure, one transaction per settlement date (valued on that date); a reversal
is a negative expenditure.

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
from services.funding.cycles.service import WrongStatus, record
from services.funding.models import Agreement, PaymentCycle, ReconciliationReport
from services.funding.rates.service import Rate, convert
from services.funding.transactions import service as transactions
from services.funding.vocabulary import EXPENDITURE, ReportedStatus
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clock import today
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
    recorded = await _expenditures(session, principal, audit, cycle, agreement, settled)
    if cycle.status == "sent":
        await repository.move(session, cycle_id, ("sent",), status="reconciling")

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
    await record(
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
        self.agreement_paid = 0
        self.agreement_released = 0
        self.agreement_refunded = 0
        # settlement date -> [in the cycle's currency, in the agreement's]
        self.paid_on: dict[date, list[int]] = defaultdict(lambda: [0, 0])
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
        else:  # failed, or reversed before it was ever reported paid: never paid
            settled.agreement_released += in_agreement
    return settled


async def _expenditures(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    cycle: PaymentCycle,
    agreement: Agreement,
    settled: _Settled,
) -> list[uuid.UUID]:
    recorded: list[uuid.UUID] = []
    day = today()
    for sign, by_date, what in (
        (1, settled.paid_on, "paid to households"),
        (-1, settled.refunded_on, "payments to households reversed"),
    ):
        for value_date, (amount, in_agreement) in sorted(by_date.items()):
            transaction = await transactions.add(
                session,
                principal,
                audit,
                type=EXPENDITURE,
                transaction_date=day,
                value_date=value_date,
                amount=Money(sign * amount, cycle.currency),
                agreement=agreement,
                agreement_amount=Money(sign * in_agreement, agreement.currency),
                provider_org_id=cycle.payment_provider_id,
                description=f"Payroll {cycle.reference}: {what} on {value_date.isoformat()}",
                reference=cycle.reference,
                payment_cycle_id=cycle.id,
                path="file.date",
            )
            recorded.append(transaction.id)
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
