"""Approving a payroll (four eyes, the reservation converted line by line, not enough money),
sending it (the disbursement), cancelling it before it is sent (the reservation released)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, select

from services.funding.models import AuditEvent, ExchangeRate, Transaction
from shared.clock import today
from shared.db import Database
from tests.funding.payloads import create_programme
from tests.funding.test_cycles import (
    Payrolls,
    act,
    balance,
    build,
    create_cycle,
    get_cycle,
    lines_of,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

# -- approving ------------------------------------------------------------------------------


async def test_an_approver_other_than_the_creator_reserves_the_payroll(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    tokens: TokenFactory,
    approver: dict[str, str],
) -> None:
    funds = await payrolls.funded(3, received=100_000)
    # Someone who is both officer and approver still cannot approve their own payroll.
    both = tokens.bearer(sub="user:both", roles=["finance_officer", "finance_approver"])
    cycle = await payrolls.built(funds, by=both)

    own = await act(funding, cycle["id"], "approve", both)
    assert own.status_code == 403
    assert "another finance approver" in own.json()["detail"]
    officer_only = await act(funding, cycle["id"], "approve", as_role(tokens, "finance_officer"))
    assert officer_only.status_code == 403
    admin = await act(funding, cycle["id"], "approve", as_role(tokens, "admin"))
    assert admin.status_code == 403, "an admin is not an approver"

    approved = await act(funding, cycle["id"], "approve", approver)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["approved_by"]) == ("approved", "user:finance_approver")
    assert body["reserved"] == {"amount_minor": 90_000, "currency": "DJF"}
    assert body["rates"]["cycle_rate_to_djf"] == body["rates"]["agreement_rate_to_djf"]
    assert Decimal(body["rates"]["cycle_rate_to_djf"]) == 1
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 100_000,
        "reserved": 90_000,
        "paid": 0,
    }
    twice = await act(funding, cycle["id"], "approve", approver)
    assert twice.status_code == 409
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 100_000,
        "reserved": 90_000,
        "paid": 0,
    }

    # What is left (10,000 DJF) pays no second payroll of 90,000.
    other = await payrolls.built(funds, period="2026Q4", by=both)
    short = await act(funding, other["id"], "approve", approver)
    assert short.status_code == 409
    problem = short.json()
    assert problem["type"].endswith("/insufficient-funds")
    assert "has only 10000 DJF available" in problem["detail"]
    assert (await get_cycle(funding, approver, other["id"]))["status"] == "draft"
    assert (await balance(funding_db, funds.agreement_id))["reserved"] == 90_000

    async with funding_db.sessionmaker() as session:
        audited = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "approve", AuditEvent.resource_id == uuid.UUID(cycle["id"])
            )
        )
    assert audited is not None
    assert audited.detail["before"] == {"status": "draft"}
    assert audited.detail["after"]["reserved_minor"] == 90_000


async def test_the_reservation_is_each_line_converted_at_the_approval_rate(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    funding_db: Database,
    tokens: TokenFactory,
    approver: dict[str, str],
) -> None:
    await create_programme(
        registry, tokens, "pnsf-eur", benefit_currency="EUR", benefit_amount=1000
    )
    funds = await payrolls.funded(3, currency="USD", programmes=["pnsf", "pnsf-eur"])
    cycle = await payrolls.built(funds)

    approved = await act(funding, cycle["id"], "approve", approver)
    assert approved.status_code == 200, approved.text
    # 30,000 DJF is 168.80 USD (168.8042...): three lines reserve 506.40 USD, though the
    # total converted at once would be 506.41: each line settles for what it reserved.
    assert approved.json()["reserved"] == {"amount_minor": 50_640, "currency": "USD"}
    assert approved.json()["rates"] == {
        "cycle_currency": "DJF",
        "cycle_rate_to_djf": "1.0000000000",
        "agreement_currency": "USD",
        "agreement_rate_to_djf": "177.7210000000",
    }

    # No EUR rate recorded: no approval, and nothing held.
    await payrolls.enroll_many(1, "pnsf-eur")
    eur = await payrolls.built(funds, "pnsf-eur")
    refused = await act(funding, eur["id"], "approve", approver)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/no-exchange-rate")
    assert (await balance(funding_db, funds.agreement_id))["reserved"] == 50_640


# -- sending, cancelling ----------------------------------------------------------------------


async def test_sending_disburses_the_total_to_the_payment_provider(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    funds = await payrolls.funded(2)
    cycle = await payrolls.built(funds)
    early = await act(funding, cycle["id"], "send", officer)
    assert early.status_code == 409, "an unapproved payroll is not sent"
    assert (await act(funding, cycle["id"], "approve", approver)).status_code == 200
    by_approver = await act(funding, cycle["id"], "send", approver)
    assert by_approver.status_code == 403

    sent = await act(funding, cycle["id"], "send", officer | {"Idempotency-Key": "send-1"})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["sent_by"]) == ("sent", "user:finance_officer")
    replay = await act(funding, cycle["id"], "send", officer | {"Idempotency-Key": "send-1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert (await act(funding, cycle["id"], "send", officer)).status_code == 409

    async with funding_db.sessionmaker() as session:
        disbursements = list(
            await session.scalars(
                select(Transaction).where(Transaction.payment_cycle_id == uuid.UUID(cycle["id"]))
            )
        )
    assert len(disbursements) == 1, "sent once, disbursed once"
    disbursement = disbursements[0]
    assert (disbursement.type, disbursement.amount_minor, disbursement.currency) == (
        3,
        60_000,
        "DJF",
    )
    assert disbursement.agreement_id == funds.agreement_id
    assert disbursement.agreement_amount_minor == 60_000
    assert disbursement.receiver_org_id == funds.provider_id
    assert disbursement.provider_org_id == funds.funder_id
    assert disbursement.value_date == today()
    # Still reserved until the provider reports: sending moves no balance.
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 60_000,
        "paid": 0,
    }
    cancel = await act(funding, cycle["id"], "cancel", officer, reason="too late")
    assert cancel.status_code == 409, "a sent payroll cannot be cancelled"


async def test_cancelling_an_approved_cycle_releases_its_reservation(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_app: FastAPI,
    funding_db: Database,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    funds = await payrolls.funded(3, received=90_000)
    cycle = await payrolls.built(funds)
    assert (await act(funding, cycle["id"], "approve", approver)).status_code == 200
    assert (await balance(funding_db, funds.agreement_id))["reserved"] == 90_000

    no_reason = await act(funding, cycle["id"], "cancel", officer, reason="  ")
    assert no_reason.status_code == 422
    cancelled = await act(funding, cycle["id"], "cancel", officer, reason="duplicate payroll")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == (
        "cancelled",
        "duplicate payroll",
    )
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 90_000,
        "reserved": 0,
        "paid": 0,
    }
    assert (await act(funding, cycle["id"], "cancel", officer, reason="again")).status_code == 409
    # The money and the households are free for another payroll of the period.
    again = await payrolls.built(funds)
    assert again["lines_count"] == 3
    assert (await act(funding, again["id"], "approve", approver)).status_code == 200

    # An approver refuses a payroll the same way, with the reason.
    refused = await act(funding, again["id"], "cancel", approver, reason="amounts to check")
    assert refused.status_code == 200, refused.text
    assert refused.json()["cancel_reason"] == "amounts to check"
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 90_000,
        "reserved": 0,
        "paid": 0,
    }

    # A draft cancelled before its build: the build never runs.
    queued = await create_cycle(funding, officer, funds, period="2026Q4")
    assert (await act(funding, queued["id"], "cancel", officer, reason="typo")).status_code == 200
    assert await build(funding_app, funding_db) == 0
    dropped = await get_cycle(funding, officer, queued["id"])
    assert (dropped["status"], dropped["build"]["status"]) == ("cancelled", "failed")
    assert await lines_of(funding_db, queued["id"]) == []


async def test_sending_without_a_rate_to_value_the_disbursement_names_the_send_date(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    cycle = await payrolls.built(await payrolls.funded(1))
    assert (await act(funding, cycle["id"], "approve", approver)).status_code == 200
    # A DJF payroll on a DJF agreement needs no rate to be approved; its disbursement is
    # valued in USD too, on the day it is sent.
    async with funding_db.sessionmaker() as session:
        await session.execute(delete(ExchangeRate).where(ExchangeRate.currency == "USD"))
        await session.commit()
    refused = await act(funding, cycle["id"], "send", officer)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/no-exchange-rate")
    assert [error["path"] for error in refused.json()["errors"]] == ["cycle.sent_at"]
    assert (await get_cycle(funding, officer, cycle["id"]))["status"] == "approved"
