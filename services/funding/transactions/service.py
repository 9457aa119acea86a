"""Recording transactions: the one place an amount is valued in DJF and USD at its value date
and written to the ledger, whatever records it (an officer, a payroll sent or reconciled)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.access import partner_scope
from services.funding.agreements import ledger
from services.funding.agreements import service as agreements
from services.funding.context import MoneyChange
from services.funding.models import Agreement, Transaction
from services.funding.organisations import repository as organisations
from services.funding.projects import repository as projects
from services.funding.rates.service import Converted, convert_on, in_djf_and_usd, stored_rates
from services.funding.transactions import repository
from services.funding.transactions.repository import TransactionFilters
from services.funding.transactions.schemas import (
    TransactionCreate,
    TransactionRead,
    TransactionReversal,
)
from services.funding.vocabulary import DJF, INCOMING_FUNDS, TRANSACTION_TYPES, USD
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clock import today
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.money import MAX_MINOR, Money, MoneyError
from shared.pagination import Page, PageParams, page_of


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
    valued: Converted | None = None,
) -> Transaction:
    """Write one transaction with its DJF and USD equivalents (422 naming `path` when its
    value date has no rate) and audit it. Incoming funds on an agreement raise what it has
    received by `agreement_amount` (the amount in the agreement's currency, which the
    caller has worked out); other types leave the balance to their caller. `valued`: the
    equivalents worked out already (a reversal's are its original's, negated)."""
    converted = valued or await in_djf_and_usd(session, amount, value_date, path)
    row = await repository.add(
        session,
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
        rates=[rate.used() for rate in stored_rates(row)],
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


# What finance officers record, correct and read


class AlreadyReversed(Conflict):
    type, title = "already-reversed", "Already reversed"


class NotReversible(Conflict):
    type, title = "not-reversible", "Not reversible"


# Incoming funds, commitments and pledges come from the agreement's funder unless told.
_FROM_FUNDER = {INCOMING_FUNDS, 11, 13}


async def record(change: MoneyChange, data: TransactionCreate) -> TransactionRead:
    """A transaction an officer records: on an active agreement (locked while it is
    recorded, so it cannot close meanwhile) and/or a project, between known organisations."""
    session = change.session
    value_date = data.value_date or data.transaction_date
    await _check_references(session, data)
    agreement = None
    agreement_amount = None
    if data.agreement_id is not None:
        agreement = await agreements.for_transaction(session, data.agreement_id)
        if data.project_id is not None and data.project_id != agreement.project_id:
            raise UnprocessableEntity(
                "The project is not the agreement's.",
                errors=[{"path": "body.project_id", "message": "not the agreement's project"}],
            )
        agreement_amount = await _in_currency(session, data.amount, agreement.currency, value_date)
        if (
            data.type == INCOMING_FUNDS
            and agreement.received_minor + agreement_amount.amount_minor > MAX_MINOR
        ):
            raise UnprocessableEntity(
                "The agreement cannot hold that much.",
                errors=[{"path": "body.amount", "message": "too large"}],
            )
    provider = data.provider_org_id
    if provider is None and agreement is not None and data.type in _FROM_FUNDER:
        provider = agreement.funder_id
    try:
        row = await add(
            session,
            change.principal,
            change.audit,
            type=data.type,
            transaction_date=data.transaction_date,
            value_date=value_date,
            amount=data.amount,
            agreement=agreement,
            agreement_amount=agreement_amount,
            project_id=data.project_id,
            provider_org_id=provider,
            receiver_org_id=data.receiver_org_id,
            description=data.description,
            reference=data.reference,
        )
    except MoneyError as exc:  # beyond what the ledger holds once in DJF or USD
        raise UnprocessableEntity(
            str(exc), errors=[{"path": "body.amount", "message": "too large"}]
        ) from exc
    return read(row, agreement.currency if agreement else None)


async def reverse(
    change: MoneyChange, transaction_id: uuid.UUID, data: TransactionReversal
) -> TransactionRead:
    """A new transaction undoing `transaction_id` exactly: the same amount negated, at the
    same value date and with the same rates, so every total (in its currency, DJF and USD)
    comes back to what it was. Incoming funds reversed lower what the agreement received,
    unless payrolls have reserved or paid that money (409)."""
    session = change.session
    # Locked: two reversals sent at once cannot both pass the checks.
    found = await repository.get(session, transaction_id, for_update=True)
    if found is None:
        raise NotFound("No such transaction.")
    original, _ = found
    if original.reverses_id is not None:
        raise NotReversible("This transaction is a reversal: record the original one again.")
    reversal_id = await repository.reversal_of(session, original.id)
    if reversal_id is not None:
        raise AlreadyReversed("This transaction is reversed already.", reversed_by=reversal_id)
    if original.payment_cycle_id is not None:
        raise NotReversible(
            "This transaction was recorded by a payment cycle: it is corrected through the "
            "cycle (its provider's report), not by hand."
        )
    transaction_date = data.transaction_date or today()
    if transaction_date < original.transaction_date:
        raise UnprocessableEntity(
            "A reversal cannot be dated before the transaction it reverses.",
            errors=[{"path": "body.transaction_date", "message": "before the original's"}],
        )
    agreement = None
    agreement_amount = None
    if original.agreement_id is not None:
        agreement = await agreements.for_transaction(session, original.agreement_id, "agreement_id")
        if original.agreement_amount_minor is not None:
            agreement_amount = Money(-original.agreement_amount_minor, agreement.currency)
    rate, usd_rate = stored_rates(original)
    valued = Converted(
        amount=Money(-original.amount_minor, original.currency),
        djf=Money(-original.amount_djf_minor, DJF),
        usd=Money(-original.amount_usd_minor, USD),
        rate=rate,
        usd_rate=usd_rate,
    )
    row = await add(
        session,
        change.principal,
        change.audit,
        type=original.type,
        transaction_date=transaction_date,
        value_date=original.value_date,
        amount=valued.amount,
        agreement=agreement,
        agreement_amount=agreement_amount,
        project_id=original.project_id,
        provider_org_id=original.provider_org_id,
        receiver_org_id=original.receiver_org_id,
        description=data.reason,
        reference=original.reference,
        reverses_id=original.id,
        valued=valued,
    )
    return read(row, agreement.currency if agreement else None)


async def get(
    session: AsyncSession, principal: Principal, transaction_id: uuid.UUID
) -> TransactionRead:
    """404 as well for a transaction a partner has no part in: it does not learn it exists."""
    found = await repository.get(session, transaction_id, partner_scope(principal))
    if found is None:
        raise NotFound("No such transaction.")
    return read(*found)


async def list_transactions(
    session: AsyncSession, principal: Principal, filters: TransactionFilters, params: PageParams
) -> Page[TransactionRead]:
    errors = []
    if filters.type is not None and filters.type not in TRANSACTION_TYPES:
        errors.append({"path": "query.type", "message": "not an IATI transaction type used here"})
    start, end = filters.value_date_from, filters.value_date_to
    if start is not None and end is not None and end < start:
        errors.append({"path": "query.value_date_to", "message": "before value_date_from"})
    if errors:
        raise UnprocessableEntity("Invalid filters.", errors=errors)
    found = await repository.list_transactions(session, partner_scope(principal), filters, params)
    page = page_of(
        found, params, key=lambda item: [item[0].value_date, item[0].created_at, item[0].id]
    )
    return Page[TransactionRead](
        items=[read(row, currency) for row, currency in page.items], next_cursor=page.next_cursor
    )


async def _check_references(session: AsyncSession, data: TransactionCreate) -> None:
    """The project and organisations named exist; the transaction belongs somewhere."""
    errors = []
    if data.agreement_id is None and data.project_id is None:
        errors.append(
            {"path": "body.project_id", "message": "give the project or the agreement it is on"}
        )
    if data.project_id is not None and not await projects.exists_by_id(session, data.project_id):
        errors.append({"path": "body.project_id", "message": "no such project"})
    named = {"provider_org_id": data.provider_org_id, "receiver_org_id": data.receiver_org_id}
    known = await organisations.existing(session, {v for v in named.values() if v is not None})
    errors += [
        {"path": f"body.{name}", "message": "no such organisation"}
        for name, value in named.items()
        if value is not None and value not in known
    ]
    if errors:
        raise UnprocessableEntity("The transaction is invalid.", errors=errors)


async def _in_currency(session: AsyncSession, amount: Money, currency: str, day: date) -> Money:
    try:
        return await convert_on(session, amount, currency, day, "body.value_date")
    except MoneyError as exc:
        raise UnprocessableEntity(
            str(exc), errors=[{"path": "body.amount", "message": "too large"}]
        ) from exc
