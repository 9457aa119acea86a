"""Recording transactions: the one place an amount is valued in DJF and USD at its value date
and written to the ledger, whatever records it (an officer, a payroll sent or reconciled)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements import ledger
from services.funding.models import Agreement, Transaction
from services.funding.rates.service import Rate, in_djf_and_usd
from services.funding.transactions.schemas import TransactionRead
from services.funding.vocabulary import INCOMING_FUNDS, TRANSACTION_TYPES, USD
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.money import Money


async def add(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    *,
    type: int,
    transaction_date: date,
    value_date: date,
    amount: Money,
    agreement: Agreement | None = None,
    agreement_amount: Money | None = None,
    project_id: uuid.UUID | None = None,
    provider_org_id: uuid.UUID | None = None,
    receiver_org_id: uuid.UUID | None = None,
    description: str | None = None,
    reference: str | None = None,
    payment_cycle_id: uuid.UUID | None = None,
    reverses_id: uuid.UUID | None = None,
    path: str = "body.value_date",
) -> Transaction:
    """Write one transaction with its DJF and USD equivalents (422 naming `path` when its
    value date has no rate) and audit it. Incoming funds on an agreement raise what it has
    received by `agreement_amount` (the amount in the agreement's currency, which the
    caller has worked out); other types leave the balance to their caller."""
    converted = await in_djf_and_usd(session, amount, value_date, path)
    row = Transaction(
        id=uuid.uuid4(),
        type=type,
        reference=reference,
        transaction_date=transaction_date,
        value_date=value_date,
        currency=amount.currency,
        amount_minor=amount.amount_minor,
        amount_djf_minor=converted.djf.amount_minor,
        amount_usd_minor=converted.usd.amount_minor,
        rate_to_djf=converted.rate.rate_to_djf,
        rate_date=converted.rate.rate_date,
        usd_rate_to_djf=converted.usd_rate.rate_to_djf,
        usd_rate_date=converted.usd_rate.rate_date,
        agreement_id=agreement.id if agreement else None,
        agreement_amount_minor=agreement_amount.amount_minor if agreement_amount else None,
        project_id=project_id or (agreement.project_id if agreement else None),
        provider_org_id=provider_org_id,
        receiver_org_id=receiver_org_id,
        description=description,
        payment_cycle_id=payment_cycle_id,
        reverses_id=reverses_id,
        created_by=principal.subject,
    )
    session.add(row)
    await session.flush()
    if type == INCOMING_FUNDS and agreement is not None and agreement_amount is not None:
        await ledger.receive(session, agreement.id, agreement_amount.amount_minor)
    await audit.record_write(
        session,
        principal,
        "reverse" if reverses_id else "create",
        "transaction",
        row.id,
        detail={
            "type": type,
            "after": {"amount_minor": row.amount_minor, "currency": row.currency},
            "agreement_id": str(row.agreement_id) if row.agreement_id else None,
            "payment_cycle_id": str(payment_cycle_id) if payment_cycle_id else None,
        },
    )
    await session.refresh(row)
    return row


def read(row: Transaction, agreement_currency: str | None = None) -> TransactionRead:
    """The transaction as answered (`agreement_currency`: of its agreement, if any)."""
    amount = Money(row.amount_minor, row.currency)
    agreement_amount = (
        Money(row.agreement_amount_minor, agreement_currency)
        if row.agreement_amount_minor is not None and agreement_currency is not None
        else None
    )
    return TransactionRead(
        id=row.id,
        type=row.type,  # type: ignore[arg-type]
        type_name=TRANSACTION_TYPES[row.type],
        reference=row.reference,
        transaction_date=row.transaction_date,
        value_date=row.value_date,
        amount=amount,
        amount_djf=Money(row.amount_djf_minor, "DJF"),
        amount_usd=Money(row.amount_usd_minor, USD),
        rates=[
            Rate(row.currency, row.rate_to_djf, row.rate_date).used(),
            Rate(USD, row.usd_rate_to_djf, row.usd_rate_date).used(),
        ],
        agreement_id=row.agreement_id,
        agreement_amount=agreement_amount,
        project_id=row.project_id,
        provider_org_id=row.provider_org_id,
        receiver_org_id=row.receiver_org_id,
        description=row.description,
        payment_cycle_id=row.payment_cycle_id,
        reverses_id=row.reverses_id,
        created_at=row.created_at,
        created_by=row.created_by,
    )
