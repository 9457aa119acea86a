"""The money a payroll moves, as the reports add it up: a payment reversed nets out with the
payment in DJF and USD whatever rates came since; disbursed counts what the provider paid
out, once, when failed lines are paid by a later cycle; and the agreement's balance refuses
a settlement it cannot take (409) or an amount it cannot hold, never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import func, select, update

from services.funding.agreements import ledger
from services.funding.models import Agreement, ExchangeRate, PaymentCycle, Transaction
from shared.clock import today
from shared.db import Database
from shared.money import MAX_MINOR
from tests.funding.test_cycles import Payrolls, balance, lines_of
from tests.funding.test_cycles_reconciliation import (
    csv_report,
    disbursements,
    expenditures,
    upload,
)

BENEFIT = 30_000


async def add_usd_rate(db: Database, on: date, rate: str) -> None:
    async with db.sessionmaker() as session:
        session.add(
            ExchangeRate(currency="USD", rate_date=on, rate_to_djf=Decimal(rate), source="BCD")
        )
        await session.commit()


async def test_a_reversed_payment_nets_out_with_it_in_djf_and_usd(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
) -> None:
    cycle, _, refs = await payrolls.sent(households=2)
    paid_on = today() - timedelta(days=10)
    paid = csv_report(*((ref, "paid", "", paid_on.isoformat()) for ref in refs))
    assert (await upload(funding, cycle["id"], approver, paid)).status_code == 200

    # Rates recorded after the payment: one between it and the reversal, and one backdated
    # before the day it was paid (a year's rates uploaded late).
    await add_usd_rate(funding_db, today() - timedelta(days=5), "200")
    await add_usd_rate(funding_db, paid_on - timedelta(days=3), "150")
    reversed_ = csv_report(*((ref, "reversed", "", today().isoformat()) for ref in refs))
    applied = await upload(funding, cycle["id"], approver, reversed_)
    assert applied.status_code == 200, applied.text
    assert applied.json()["refunded"] == {"amount_minor": 2 * BENEFIT, "currency": "DJF"}

    payment, refund = await expenditures(funding_db, cycle["id"])
    assert (payment.amount_minor, refund.amount_minor) == (2 * BENEFIT, -2 * BENEFIT)
    assert refund.value_date == payment.value_date == paid_on
    assert refund.transaction_date == today(), "recorded today"
    assert payment.amount_djf_minor + refund.amount_djf_minor == 0
    assert payment.amount_usd_minor + refund.amount_usd_minor == 0
    assert (refund.usd_rate_to_djf, refund.usd_rate_date) == (
        payment.usd_rate_to_djf,
        payment.usd_rate_date,
    )
    # The lines keep the day they were paid (when they were reversed is status_changed_at).
    assert {(line.status, line.settled_on) for line in await lines_of(funding_db, cycle["id"])} == {
        ("reversed", paid_on)
    }
    # The money is back in the agreement, to pay again: the provider no longer holds it.
    sent, given_back = await disbursements(funding_db, cycle["id"])
    assert (sent.amount_minor, given_back.amount_minor) == (2 * BENEFIT, -2 * BENEFIT)


async def test_disbursed_counts_failed_lines_paid_by_a_later_cycle_once(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
) -> None:
    first, funds, refs = await payrolls.sent(households=10)
    day = today().isoformat()
    report = csv_report(
        *((ref, "failed" if n < 2 else "paid", "", day) for n, ref in enumerate(refs))
    )
    assert (await upload(funding, first["id"], approver, report)).status_code == 200
    sent, given_back = await disbursements(funding_db, first["id"])
    assert (sent.amount_minor, given_back.amount_minor) == (10 * BENEFIT, -2 * BENEFIT)
    assert given_back.agreement_amount_minor == -2 * BENEFIT
    # To the same provider, from the same funder, valued as the disbursement it corrects.
    assert (given_back.provider_org_id, given_back.receiver_org_id) == (
        funds.funder_id,
        funds.provider_id,
    )
    assert given_back.agreement_id == funds.agreement_id
    assert (given_back.value_date, given_back.rate_to_djf, given_back.usd_rate_to_djf) == (
        sent.value_date,
        sent.rate_to_djf,
        sent.usd_rate_to_djf,
    )

    # The two failed households, re-issued and paid.
    second = await payrolls.built(funds)
    assert second["lines_count"] == 2
    await payrolls.send(second)
    again = [line.reference for line in await lines_of(funding_db, second["id"])]
    paid = csv_report(*((ref, "paid", "", day) for ref in again))
    assert (await upload(funding, second["id"], approver, paid)).status_code == 200

    async with funding_db.sessionmaker() as session:
        by_type = dict(
            (
                await session.execute(
                    select(Transaction.type, func.sum(Transaction.amount_djf_minor))
                    .join(PaymentCycle, PaymentCycle.id == Transaction.payment_cycle_id)
                    .where(PaymentCycle.agreement_id == funds.agreement_id)
                    .group_by(Transaction.type)
                )
            ).all()
        )
    assert by_type == {3: 10 * BENEFIT, 4: 10 * BENEFIT}, "disbursed as much as was paid out"
    assert sum(t.amount_minor for t in await disbursements(funding_db, first["id"])) == (
        8 * BENEFIT
    )
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 0,
        "paid": 10 * BENEFIT,
    }


async def test_a_settlement_the_balance_cannot_take_is_a_409(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
) -> None:
    cycle, funds, refs = await payrolls.sent(households=2)
    # The agreement's reservation drifted from the cycle's (a hand correction gone wrong).
    async with funding_db.sessionmaker() as session:
        await session.execute(
            update(Agreement).where(Agreement.id == funds.agreement_id).values(reserved_minor=0)
        )
        await session.commit()
    report = csv_report((refs[0], "paid", "", today().isoformat()))
    response = await upload(funding, cycle["id"], approver, report)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"].endswith("/agreement-balance-mismatch")
    assert "does not match this payroll" in problem["detail"]
    assert {line.status for line in await lines_of(funding_db, cycle["id"])} == {"pending"}
    assert await expenditures(funding_db, cycle["id"]) == []
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 0,
        "paid": 0,
    }


async def test_a_reservation_too_large_to_add_up_is_refused(
    payrolls: Payrolls, funding_db: Database
) -> None:
    _, funds, _ = await payrolls.sent(households=1)
    async with funding_db.sessionmaker() as session:
        # reserved (30,000) + paid + this is past bigint's range.
        for amount in (MAX_MINOR, MAX_MINOR + 1, -1):
            assert await ledger.reserve(session, funds.agreement_id, amount) is False, amount
        assert await ledger.reserve(session, funds.agreement_id, 1_000_000 - BENEFIT) is True
        assert await ledger.reserve(session, funds.agreement_id, 1) is False
        await session.rollback()
    assert (await balance(funding_db, funds.agreement_id))["reserved"] == BENEFIT
