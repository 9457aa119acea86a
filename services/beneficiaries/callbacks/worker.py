"""Sending the DCI callbacks due from the outbox: each signed with the registry's key when
it is sent (a retry hours later carries a fresh signature; its header and message id stay
those it was queued with, so a receiver can tell a retry), posted to the partner's callback
URI and counted delivered only when the receiver acknowledges it (the standard's Response,
`ack_status` ACK or NACK). Anything else is retried after an exponentially growing wait,
until the last attempt gives it up.

A worker claims a batch with FOR UPDATE SKIP LOCKED and keeps the rows locked while it
sends them: another worker passes them over, and a worker that dies mid-send leaves them
pending (its transaction rolls back) for the next one. A callback whose agreement is no
longer in force, has changed since, or no longer registers its URI is not sent."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.callbacks import notifications, repository
from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dci import codes
from services.beneficiaries.dci.signatures import RegistrySigner
from services.beneficiaries.models import DataSharingAgreement, DciDelivery, DciSubscription
from services.beneficiaries.partners.scope import AgreementRefused, active_agreement
from shared.audit import AuditTrail
from shared.db import Database
from shared.logs import get_logger

BATCH = 20
# A notification with nothing to tell (or whose subscription ended): not sent, not failed.
SKIPPED = "skipped: "
_log = get_logger("inds.beneficiaries.callbacks")


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None
    # Not worth another attempt (the agreement no longer allows it).
    final: bool = False


def backoff(attempts: int, settings: BeneficiariesSettings) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    seconds = settings.dci_callback_backoff * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.dci_callback_backoff_max))


def callback_client(settings: BeneficiariesSettings) -> httpx.AsyncClient:
    """The client callbacks are posted with: no redirects followed (a callback goes to
    the registered URI and nowhere else), no retry below the outbox's own."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.dci_callback_timeout, connect=3.0),
        follow_redirects=False,
    )


async def deliver_due(
    database: Database,
    settings: BeneficiariesSettings,
    signer: RegistrySigner,
    client: httpx.AsyncClient,
    audit: AuditTrail,
    *,
    now: datetime | None = None,
) -> int:
    """Sends every callback due by `now` (default: the present); how many were delivered.
    A notification's content is read (and audited) at its first attempt."""
    moment = now or datetime.now(UTC)
    delivered = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            due = await repository.claim_due(session, moment, BATCH)
            if not due:
                return delivered
            agreements = await repository.agreements(session, list({d.agreement_id for d in due}))
            refusals = {d.id: _refusal(d, agreements.get(d.agreement_id)) for d in due}
            subscriptions = await repository.subscriptions(
                session, [d.subscription_id for d in due if d.subscription_id]
            )
            for delivery in due:
                if delivery.envelope is None and refusals[delivery.id] is None:
                    refusals[delivery.id] = await _compose(
                        session, database, audit, settings, delivery, agreements, subscriptions
                    )
            outcomes = await asyncio.gather(
                *(_attempt(client, signer, d, refusals[d.id]) for d in due)
            )
            sent_at = now or datetime.now(UTC)
            for delivery, outcome in zip(due, outcomes, strict=True):
                await _record(session, settings, delivery, outcome, sent_at)
                delivered += outcome.delivered


async def forget_finished(
    database: Database, settings: BeneficiariesSettings, *, now: datetime | None = None
) -> int:
    """Deletes the callbacks done with that are older than the retention period; how many."""
    before = (now or datetime.now(UTC)) - timedelta(days=settings.dci_delivery_retention_days)
    async with database.sessionmaker() as session, session.begin():
        deleted = await repository.forget_finished(session, before)
    if deleted:
        _log.info("old callbacks deleted", count=deleted)
    return deleted


def _refusal(delivery: DciDelivery, agreement: DataSharingAgreement | None) -> str | None:
    """Why the callback may no longer be sent, if it may not."""
    try:
        active_agreement([agreement] if agreement else [], today(), delivery.partner_id)
    except AgreementRefused as refused:
        return refused.reason
    assert agreement is not None
    if agreement.version != delivery.agreement_version:
        return "agreement-changed"
    if delivery.callback_uri not in (agreement.callback_uris or ()):
        return "callback-uri-unregistered"
    return None


async def _compose(
    session: AsyncSession,
    database: Database,
    audit: AuditTrail,
    settings: BeneficiariesSettings,
    delivery: DciDelivery,
    agreements: dict[uuid.UUID, DataSharingAgreement],
    subscriptions: dict[uuid.UUID, DciSubscription],
) -> str | None:
    """A notification's envelope read and kept (its retries send the same one); why it
    is not sent, if it is not."""
    subscription = subscriptions.get(delivery.subscription_id) if delivery.subscription_id else None
    if subscription is None or subscription.status != codes.SUBSCRIBED:
        return SKIPPED + "unsubscribed"
    envelope = await notifications.compose(
        session,
        database,
        audit,
        settings,
        delivery,
        agreements[delivery.agreement_id],
        subscription,
    )
    if envelope is None:
        return SKIPPED + "nothing the subscription and agreement show"
    delivery.envelope = envelope
    await repository.keep_envelope(session, delivery.id, envelope)
    return None


async def _attempt(
    client: httpx.AsyncClient,
    signer: RegistrySigner,
    delivery: DciDelivery,
    refusal: str | None,
) -> Outcome:
    if refusal is not None:
        skipped = refusal.startswith(SKIPPED)
        return Outcome(False, refusal if skipped else f"not sent: {refusal}", final=True)
    assert delivery.envelope is not None
    body = orjson.dumps(signer.sign(delivery.envelope))
    try:
        response = await client.post(
            delivery.callback_uri, content=body, headers={"Content-Type": "application/json"}
        )
    except httpx.HTTPError as exc:
        return Outcome(False, f"not reached: {type(exc).__name__}")
    if not response.is_success:
        return Outcome(False, f"HTTP {response.status_code}")
    if _ack_status(response) not in (codes.ACK, codes.NACK):
        return Outcome(False, "answered without an ACK")
    return Outcome(True)


def _ack_status(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return message.get("ack_status") if isinstance(message, dict) else None


async def _record(
    session: AsyncSession,
    settings: BeneficiariesSettings,
    delivery: DciDelivery,
    outcome: Outcome,
    moment: datetime,
) -> None:
    attempts = delivery.attempts + (0 if outcome.final else 1)
    if outcome.delivered:
        await repository.record(
            session, delivery.id, status="delivered", attempts=attempts, delivered_at=moment
        )
        return
    if outcome.error and outcome.error.startswith(SKIPPED):
        await repository.record(
            session, delivery.id, status="skipped", attempts=attempts, last_error=outcome.error
        )
        return
    given_up = outcome.final or attempts >= settings.dci_callback_max_attempts
    _log.warning(
        "callback not delivered",
        delivery_id=str(delivery.id),
        partner_id=delivery.partner_id,
        action=delivery.action,
        attempts=attempts,
        error=outcome.error,
        given_up=given_up,
    )
    await repository.record(
        session,
        delivery.id,
        status="failed" if given_up else "pending",
        attempts=attempts,
        next_attempt_at=None if given_up else moment + backoff(attempts, settings),
        last_error=outcome.error,
    )
