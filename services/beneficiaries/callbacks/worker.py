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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.callbacks import repository
from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dci import codes
from services.beneficiaries.dci.signatures import RegistrySigner
from services.beneficiaries.models import DataSharingAgreement, DciDelivery
from services.beneficiaries.partners.scope import AgreementRefused, active_agreement
from shared.db import Database
from shared.logs import get_logger

BATCH = 20
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
    *,
    now: datetime | None = None,
) -> int:
    """Sends every callback due by `now` (default: the present); how many were delivered."""
    moment = now or datetime.now(UTC)
    delivered = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            due = await repository.claim_due(session, moment, BATCH)
            if not due:
                return delivered
            agreements = await repository.agreements(session, list({d.agreement_id for d in due}))
            outcomes = await asyncio.gather(
                *(_attempt(client, signer, d, agreements.get(d.agreement_id)) for d in due)
            )
            sent_at = now or datetime.now(UTC)
            for delivery, outcome in zip(due, outcomes, strict=True):
                await _record(session, settings, delivery, outcome, sent_at)
                delivered += outcome.delivered


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


async def _attempt(
    client: httpx.AsyncClient,
    signer: RegistrySigner,
    delivery: DciDelivery,
    agreement: DataSharingAgreement | None,
) -> Outcome:
    refusal = _refusal(delivery, agreement)
    if refusal is not None:
        return Outcome(False, f"not sent: {refusal}", final=True)
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
