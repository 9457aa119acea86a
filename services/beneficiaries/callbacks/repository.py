"""The SQL of DCI callbacks and subscriptions: callbacks queued with the change or request
that causes them (an event fanned out to the subscriptions to its type), claimed by a
worker (FOR UPDATE SKIP LOCKED: a row another worker holds is passed over, never sent twice
at once), and their outcome recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, column, delete, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import DataSharingAgreement, DciDelivery, DciSubscription


async def enqueue(
    session: AsyncSession,
    *,
    agreement_id: uuid.UUID,
    agreement_version: int,
    partner_id: str,
    action: str,
    transaction_id: str,
    correlation_id: str,
    callback_uri: str,
    envelope: dict[str, Any] | None,
) -> DciDelivery:
    delivery = DciDelivery(
        agreement_id=agreement_id,
        agreement_version=agreement_version,
        partner_id=partner_id,
        action=action,
        transaction_id=transaction_id,
        correlation_id=correlation_id,
        callback_uri=callback_uri,
        envelope=envelope,
        status="pending",
        attempts=0,
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[DciDelivery]:
    """Pending callbacks due by `now`, locked for this transaction; rows locked by another
    worker are skipped (it is sending them)."""
    statement = (
        select(DciDelivery)
        .where(DciDelivery.status == "pending", DciDelivery.next_attempt_at <= now)
        .order_by(DciDelivery.next_attempt_at, DciDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(statement)).scalars().all()


async def agreements(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, DataSharingAgreement]:
    statement = select(DataSharingAgreement).where(DataSharingAgreement.id.in_(ids))
    return {a.id: a for a in (await session.execute(statement)).scalars()}


async def record(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    status: str,
    attempts: int,
    next_attempt_at: datetime | None = None,
    last_error: str | None = None,
    delivered_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": last_error}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    await session.execute(update(DciDelivery).where(DciDelivery.id == delivery_id).values(values))


async def forget_finished(session: AsyncSession, queued_before: datetime) -> int:
    """Deletes the callbacks done with (every status but pending) queued before
    `queued_before`; how many."""
    statement = delete(DciDelivery).where(
        DciDelivery.status != "pending", DciDelivery.created_at < queued_before
    )
    result: CursorResult[Any] = await session.execute(statement)  # type: ignore[assignment]
    return result.rowcount or 0


async def keep_envelope(
    session: AsyncSession, delivery_id: uuid.UUID, envelope: dict[str, Any]
) -> None:
    statement = update(DciDelivery).where(DciDelivery.id == delivery_id)
    await session.execute(statement.values(envelope=envelope))


async def of_transaction(
    session: AsyncSession, partner_id: str, attribute: str, value: str, actions: Sequence[str]
) -> Sequence[DciDelivery]:
    """The partner's answers to asynchronous requests whose `transaction_id` or
    `correlation_id` (`attribute`) is `value`, latest first."""
    column = (
        DciDelivery.transaction_id if attribute == "transaction_id" else DciDelivery.correlation_id
    )
    statement = (
        select(DciDelivery)
        .where(
            DciDelivery.partner_id == partner_id,
            column == value,
            DciDelivery.action.in_(actions),
        )
        .order_by(DciDelivery.created_at.desc())
    )
    return (await session.execute(statement)).scalars().all()


async def answering(
    session: AsyncSession,
    partner_id: str,
    reference_ids: Sequence[str],
    action: str,
    responses: str,
) -> Sequence[DciDelivery]:
    """The partner's answers (`action`, e.g. on-search) whose list of responses
    (`responses`, e.g. search_response) answers one of these reference ids, latest first."""
    matches = [
        DciDelivery.envelope["message"][responses].contains([{"reference_id": reference_id}])
        for reference_id in reference_ids
    ]
    statement = (
        select(DciDelivery)
        .where(DciDelivery.partner_id == partner_id, DciDelivery.action == action, or_(*matches))
        .order_by(DciDelivery.created_at.desc())
    )
    return (await session.execute(statement)).scalars().all()


# -- subscriptions and the events they are notified of ------------------------------------


async def add_subscription(session: AsyncSession, subscription: DciSubscription) -> None:
    session.add(subscription)
    await session.flush()


async def same_subscription(
    session: AsyncSession, partner_id: str, event_type: str, filter_type: str, query: Any
) -> DciSubscription | None:
    """The partner's live subscription to the same events with the same filter."""
    statement = select(DciSubscription).where(
        DciSubscription.partner_id == partner_id,
        DciSubscription.status == "subscribe",
        DciSubscription.reg_event_type == event_type,
        DciSubscription.filter_type == filter_type,
        DciSubscription.filter == cast(query, JSONB),
    )
    return await session.scalar(statement.limit(1))


async def subscriptions_by_code(
    session: AsyncSession, partner_id: str, codes: Sequence[str], *, lock: bool = False
) -> dict[str, DciSubscription]:
    statement = select(DciSubscription).where(
        DciSubscription.partner_id == partner_id, DciSubscription.code.in_(codes)
    )
    if lock:
        statement = statement.with_for_update()
    return {s.code: s for s in (await session.execute(statement)).scalars()}


async def subscriptions(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, DciSubscription]:
    statement = select(DciSubscription).where(DciSubscription.id.in_(ids))
    return {s.id: s for s in (await session.execute(statement)).scalars()}


async def fan_out(session: AsyncSession, event_type: str, events: Sequence[dict[str, Any]]) -> None:
    """The events queued for every live subscription to their type: one row each, in the
    transaction of the change they tell of (what they say is read when sent). One
    statement however many events (an import batch registers a thousand households)."""
    if not events:
        return
    subscription, agreement = DciSubscription, DataSharingAgreement
    event = (
        func.jsonb_array_elements(cast(literal(list(events), JSONB), JSONB))
        .table_valued(column("value", JSONB))
        .alias("event")
    )
    rows = (
        select(
            subscription.agreement_id,
            agreement.version,
            subscription.partner_id,
            literal("notify"),
            cast(func.gen_random_uuid(), String),
            cast(func.gen_random_uuid(), String),
            subscription.callback_uri,
            subscription.id,
            cast(event.c.value["id"].astext, PG_UUID(as_uuid=True)),
            event.c.value,
            literal("pending"),
            literal(0),
        )
        .join(agreement, agreement.id == subscription.agreement_id)
        .join(event, true())
        .where(subscription.status == "subscribe", subscription.reg_event_type == event_type)
    )
    columns = [
        "agreement_id",
        "agreement_version",
        "partner_id",
        "action",
        "transaction_id",
        "correlation_id",
        "callback_uri",
        "subscription_id",
        "event_id",
        "event",
        "status",
        "attempts",
    ]
    statement = (
        pg_insert(DciDelivery)
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
    )
    await session.execute(statement)
