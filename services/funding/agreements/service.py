"""Agreements: a partner's commitment to a project, its planned tranches, its status, and its
balance. The commitment is valued in DJF and USD at the signed date's rates, stored with
them; the balance moves only through agreements/ledger.py."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.access import partner_scope
from services.funding.agreements import repository
from services.funding.agreements.repository import AgreementFilters
from services.funding.agreements.schemas import (
    Agreement,
    AgreementCreate,
    AgreementUpdate,
    Balance,
    Tranche,
)
from services.funding.context import MoneyChange
from services.funding.models import Agreement as AgreementRow
from services.funding.models import Tranche as TrancheRow
from services.funding.organisations import repository as organisations
from services.funding.projects import repository as projects
from services.funding.rates.service import in_djf_and_usd, stored_rates
from services.funding.vocabulary import USD
from shared.auth import Principal
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.money import Money, MoneyError
from shared.pagination import Page, PageParams, page_of
from shared.repository import flush_unique
from shared.versioning import require_version, touch

# Planned tranches as (due date, amount in the agreement's currency).
Planned = list[tuple[date, Money]]
_MOVES = {("active", "closed"), ("active", "cancelled"), ("closed", "active")}


class AgreementNotActive(Conflict):
    type, title = "agreement-not-active", "Agreement not active"


class FundsReserved(Conflict):
    type, title = "funds-reserved", "Funds reserved"


async def get(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID) -> Agreement:
    """404 as well for an agreement a partner does not fund: it does not learn it exists."""
    row = await _visible(session, principal, agreement_id)
    tranches = await repository.tranches_of(session, [row.id])
    return _view(row, tranches[row.id])


async def list_agreements(
    session: AsyncSession, principal: Principal, filters: AgreementFilters, params: PageParams
) -> Page[Agreement]:
    rows = await repository.list_agreements(session, partner_scope(principal), filters, params)
    page = page_of(rows, params, key=lambda row: [row.reference])
    tranches = await repository.tranches_of(session, [row.id for row in page.items])
    return Page[Agreement](
        items=[_view(row, tranches[row.id]) for row in page.items], next_cursor=page.next_cursor
    )


async def balance(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID) -> Balance:
    row = await _visible(session, principal, agreement_id)

    def money(minor: int) -> Money:
        return Money(minor, row.currency)

    return Balance(
        agreement_id=row.id,
        status=row.status,  # type: ignore[arg-type]
        currency=row.currency,
        committed=money(row.committed_minor),
        received=money(row.received_minor),
        reserved=money(row.reserved_minor),
        paid=money(row.paid_minor),
        available=money(row.received_minor - row.reserved_minor - row.paid_minor),
        open_cycles=await repository.open_cycles(session, row.id),
    )


async def for_transaction(
    session: AsyncSession, agreement_id: uuid.UUID, path: str = "body.agreement_id"
) -> AgreementRow:
    """The agreement a transaction is recorded on, locked until the transaction ends (a
    concurrent close waits, or is waited for); 422 naming `path` when there is none, 409
    when it is closed or cancelled."""
    row = await repository.agreements.find(session, agreement_id, for_update=True)
    if row is None:
        raise UnprocessableEntity(
            "No such agreement.", errors=[{"path": path, "message": "no such agreement"}]
        )
    if row.status != "active":
        raise AgreementNotActive(
            f"Agreement {row.reference} is {row.status}: no transaction is recorded on it.",
            errors=[{"path": path, "message": f"the agreement is {row.status}"}],
        )
    return row


async def create(change: MoneyChange, data: AgreementCreate) -> Agreement:
    session = change.session
    planned: Planned = [(t.due_date, t.amount) for t in data.tranches]
    errors = _period_errors(data.period_start, data.period_end)
    if not await projects.exists_by_id(session, data.project_id):
        errors.append({"path": "body.project_id", "message": "no such project"})
    if await organisations.get(session, data.funder_id) is None:
        errors.append({"path": "body.funder_id", "message": "no such organisation"})
    errors += _tranche_errors(planned, data.amount, "body.tranches")
    if errors:
        raise UnprocessableEntity("The agreement is invalid.", errors=errors)
    await _reference_free(session, data.reference, None)
    row = AgreementRow(
        id=uuid.uuid4(),
        reference=data.reference,
        project_id=data.project_id,
        funder_id=data.funder_id,
        currency=data.amount.currency,
        committed_minor=data.amount.amount_minor,
        signed_date=data.signed_date,
        period_start=data.period_start,
        period_end=data.period_end,
        status="active",
        **await _valued(session, data.amount, data.signed_date),
        created_by=change.principal.subject,
    )
    await flush_unique(
        session, lambda: repository.add(session, row), lambda: _taken(data.reference)
    )
    tranches = await repository.replace_tranches(session, row.id, _minor(planned))
    await change.audit.record_write(
        session,
        change.principal,
        "create",
        "agreement",
        row.id,
        detail={"after": _snapshot(row, tranches)},
    )
    return _view(row, tranches)


async def update(
    change: MoneyChange,
    agreement_id: uuid.UUID,
    data: AgreementUpdate,
    expected_version: int | None,
) -> Agreement:
    session = change.session
    # Locked: a payroll reserving money on it waits, so closing sees what is reserved.
    row = await repository.agreements.get_for_update(session, agreement_id)
    require_version(expected_version, row.version)
    current = (await repository.tranches_of(session, [row.id]))[row.id]
    sent = data.model_fields_set
    _check_status(row, data, sent)
    amount = data.amount if data.amount is not None else Money(row.committed_minor, row.currency)
    signed_date = data.signed_date or row.signed_date
    period = (
        data.period_start if "period_start" in sent else row.period_start,
        data.period_end if "period_end" in sent else row.period_end,
    )
    planned: Planned = (
        [(t.due_date, t.amount) for t in data.tranches]
        if data.tranches is not None
        else [(t.due_date, Money(t.amount_minor, row.currency)) for t in current]
    )
    await _check_update(session, row, amount, period, planned, data.tranches is not None)
    changes: dict[str, Any] = {
        "reference": data.reference or row.reference,
        "currency": amount.currency,
        "committed_minor": amount.amount_minor,
        "signed_date": signed_date,
        "period_start": period[0],
        "period_end": period[1],
        "status": data.status or row.status,
    }
    changes = {name: value for name, value in changes.items() if getattr(row, name) != value}
    tranches_change = data.tranches is not None and _minor(planned) != _minor(
        [(t.due_date, Money(t.amount_minor, row.currency)) for t in current]
    )
    if not changes and not tranches_change:
        return _view(row, current)
    if "reference" in changes:
        await _reference_free(session, changes["reference"], row.id)
    if {"currency", "committed_minor", "signed_date"} & changes.keys():
        changes |= await _valued(session, amount, signed_date)
    before = _snapshot(row, current)

    def apply() -> None:
        for name, value in changes.items():
            setattr(row, name, value)
        touch(session, row)

    await flush_unique(session, apply, lambda: _taken(changes.get("reference", row.reference)))
    if tranches_change:
        current = await repository.replace_tranches(session, row.id, _minor(planned))
    await change.audit.record_write(
        session,
        change.principal,
        "update",
        "agreement",
        row.id,
        detail={"before": before, "after": _snapshot(row, current)},
    )
    return _view(row, current)


def _check_status(row: AgreementRow, data: AgreementUpdate, sent: set[str]) -> None:
    if row.status != "active" and sent - {"status"}:
        raise AgreementNotActive(
            f"The agreement is {row.status}: only its status may change"
            + (" (reopen it first)." if row.status == "closed" else "; cancelled is final.")
        )
    wanted = data.status
    if wanted is None or wanted == row.status:
        return
    if (row.status, wanted) not in _MOVES:
        raise AgreementNotActive(
            f"A {row.status} agreement cannot become {wanted}.",
            errors=[{"path": "body.status", "message": f"not from {row.status}"}],
        )
    if wanted in ("closed", "cancelled") and row.reserved_minor > 0:
        raise FundsReserved(
            f"Payrolls hold {Money(row.reserved_minor, row.currency)} reserved on this "
            f"agreement: settle or cancel them before it is {wanted}.",
            errors=[{"path": "body.status", "message": "money is reserved on the agreement"}],
        )


async def _check_update(
    session: AsyncSession,
    row: AgreementRow,
    amount: Money,
    period: tuple[date | None, date | None],
    planned: Planned,
    tranches_sent: bool,
) -> None:
    errors = _period_errors(*period)
    if amount.currency != row.currency:
        if await repository.has_transactions(session, row.id):
            raise Conflict(
                "Transactions are recorded on this agreement in its currency: it cannot change.",
                errors=[{"path": "body.amount.currency", "message": "transactions recorded"}],
            )
        if planned and not tranches_sent:
            errors.append(
                {"path": "body.tranches", "message": f"send the tranches in {amount.currency}"}
            )
    if tranches_sent or amount.currency == row.currency:
        errors += _tranche_errors(
            planned, amount, "body.tranches" if tranches_sent else "body.amount"
        )
    if errors:
        raise UnprocessableEntity("The agreement is invalid.", errors=errors)


def _period_errors(start: date | None, end: date | None) -> list[dict[str, str]]:
    if start and end and end < start:
        return [{"path": "body.period_end", "message": "before period_start"}]
    return []


def _tranche_errors(planned: Planned, commitment: Money, path: str) -> list[dict[str, str]]:
    errors = [
        {"path": f"body.tranches.{index}.amount", "message": f"not in {commitment.currency}"}
        for index, (_, amount) in enumerate(planned)
        if amount.currency != commitment.currency
    ]
    if not errors and sum(amount.amount_minor for _, amount in planned) > commitment.amount_minor:
        errors.append({"path": path, "message": "the tranches add up to more than the commitment"})
    return errors


async def _valued(session: AsyncSession, amount: Money, signed_date: date) -> dict[str, Any]:
    """The commitment's columns in DJF and USD at `signed_date`, with the rates used."""
    try:
        converted = await in_djf_and_usd(session, amount, signed_date, "body.signed_date")
    except MoneyError as exc:  # beyond what the ledger holds once in DJF
        raise UnprocessableEntity(
            str(exc), errors=[{"path": "body.amount", "message": "too large"}]
        ) from exc
    return {
        "committed_djf_minor": converted.djf.amount_minor,
        "committed_usd_minor": converted.usd.amount_minor,
        "rate_to_djf": converted.rate.rate_to_djf,
        "rate_date": converted.rate.rate_date,
        "usd_rate_to_djf": converted.usd_rate.rate_to_djf,
        "usd_rate_date": converted.usd_rate.rate_date,
    }


async def _visible(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID
) -> AgreementRow:
    row = await repository.get(session, agreement_id, partner_scope(principal))
    if row is None:
        raise NotFound("No such agreement.")
    return row


async def _reference_free(
    session: AsyncSession, reference: str, other_than: uuid.UUID | None
) -> None:
    if await repository.reference_holder(session, reference, other_than) is not None:
        raise _taken(reference)


def _taken(reference: str) -> Conflict:
    return Conflict(
        f"An agreement with reference {reference} exists already.",
        errors=[{"path": "body.reference", "message": "another agreement has it"}],
    )


def _minor(planned: Planned) -> list[tuple[date, int]]:
    return sorted((due, amount.amount_minor) for due, amount in planned)


def _snapshot(row: AgreementRow, tranches: list[TrancheRow]) -> dict[str, Any]:
    """What the audit trail keeps of the agreement (no balance: the ledger moves it)."""
    fields = (
        "reference",
        "project_id",
        "funder_id",
        "currency",
        "committed_minor",
        "signed_date",
        "period_start",
        "period_end",
        "status",
    )
    snapshot = {name: getattr(row, name) for name in fields}
    snapshot["tranches"] = [[t.due_date, t.amount_minor] for t in tranches]
    return dict(to_jsonable_python(snapshot))


def _view(row: AgreementRow, tranches: list[TrancheRow]) -> Agreement:
    return Agreement(
        id=row.id,
        reference=row.reference,
        project_id=row.project_id,
        funder_id=row.funder_id,
        currency=row.currency,
        amount=Money(row.committed_minor, row.currency),
        committed_djf=Money(row.committed_djf_minor, "DJF"),
        committed_usd=Money(row.committed_usd_minor, USD),
        rates=[rate.used() for rate in stored_rates(row)],
        signed_date=row.signed_date,
        period_start=row.period_start,
        period_end=row.period_end,
        status=row.status,  # type: ignore[arg-type]
        tranches=[
            Tranche(id=t.id, due_date=t.due_date, amount=Money(t.amount_minor, row.currency))
            for t in tranches
        ],
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
    )
