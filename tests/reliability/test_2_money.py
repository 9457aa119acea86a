"""Money under concurrency, through the gateway, against the funding service running as two
processes: what a finance department relies on when several people (or one impatient one)
click at once.

- 50 approvals at once against an agreement whose funds cover 10 payrolls: exactly 10
  approved, the others refused with a clear 409, the agreement reserving exactly its funds,
  the audit trail holding the 10 approvals and nothing of the refused;
- two payrolls of one programme and period built at once: no household in both;
- a provider's report posted several times at once (and once more, its rows in another
  order): applied once, each household paid once, the ledger moved once, each file audited
  once.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from tests.reliability.conftest import fetch
from tests.reliability.desk import BENEFIT, CYCLES, Desk
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
APPROVALS, FUNDED = 50, 10


@pytest.fixture
async def desk(stack: RunningStack) -> Any:
    desk = Desk(stack)
    yield desk
    await desk.client.aclose()


async def test_fifty_approvals_at_once_against_funds_for_ten_approve_exactly_ten(
    desk: Desk,
) -> None:
    code, _ = await desk.programme(1, "one_off")
    agreement, provider = await desk.agreement(code, received=FUNDED * BENEFIT)
    ids = await asyncio.gather(
        *(desk.cycle(code, f"R{n:02d}", agreement, provider) for n in range(APPROVALS))
    )
    await desk.built(code, APPROVALS)

    answers = await asyncio.gather(*(desk.act(c, "approve", desk.approver) for c in ids))
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == FUNDED, statuses
    assert statuses.count(409) == APPROVALS - FUNDED, statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["type"].endswith("/insufficient-funds")
    assert await desk.balance(agreement) == {
        "received": FUNDED * BENEFIT,
        "reserved": FUNDED * BENEFIT,
        "paid": 0,
    }
    approved = [a.json()["id"] for a in answers if a.status_code == 200]
    listed = await fetch(
        desk.stack,
        "funding",
        "SELECT id FROM payment_cycle WHERE programme_code = $1 AND status = 'approved'",
        code,
    )
    assert {str(row["id"]) for row in listed} == set(approved)
    # On the trail: each approval that happened, by its approver; none of those refused.
    trail = await _audit_rows(desk, "approve", ids)
    assert sorted(row["resource_id"] for row in trail) == sorted(approved)
    assert {row["actor"] for row in trail} == {"client:demo-finance-approver"}


async def test_two_payrolls_built_at_once_hold_no_household_twice(desk: Desk) -> None:
    code, households = await desk.programme(60, "quarterly")
    agreement, provider = await desk.agreement(code, received=1_000 * BENEFIT)
    ids = await asyncio.gather(*(desk.cycle(code, "2026Q3", agreement, provider) for _ in range(2)))
    cycles = await desk.built(code, 2)
    assert {cycle["id"] for cycle in cycles} == set(ids)

    held = await fetch(
        desk.stack,
        "funding",
        "SELECT household_id, count(*) AS n FROM payment_line"
        " WHERE programme_code = $1 AND period = '2026Q3' GROUP BY household_id",
        code,
    )
    assert {row["n"] for row in held} == {1}, "no household in both payrolls"
    assert {str(row["household_id"]) for row in held} == set(households)
    assert sum(cycle["lines_count"] for cycle in cycles) == len(households)
    for cycle in cycles:
        assert sum(cycle["excluded"].values()) == len(households) - cycle["lines_count"]


async def test_a_report_posted_several_times_at_once_is_applied_once(desk: Desk) -> None:
    code, households = await desk.programme(20, "quarterly")
    agreement, provider = await desk.agreement(code, received=100 * BENEFIT)
    cycle_id = await desk.cycle(code, "2026Q4", agreement, provider)
    await desk.built(code, 1)
    assert (await desk.act(cycle_id, "approve", desk.approver)).status_code == 200
    assert (await desk.act(cycle_id, "send", desk.officer)).status_code == 200
    payment_file = await desk.client.get(
        f"{CYCLES}/{cycle_id}/payment-file.csv", headers=desk.officer
    )
    assert payment_file.status_code == 200, payment_file.text
    lines = list(csv.DictReader(io.StringIO(payment_file.content.decode("utf-8-sig"))))
    rows = [f"{line['line_reference']},paid,TX-{n},2026-10-15\n" for n, line in enumerate(lines)]
    header = "line_reference,status,provider_reference,date\n"
    report, reordered = header + "".join(rows), header + "".join(reversed(rows))

    async def post(content: str) -> httpx.Response:
        return await desk.client.post(
            f"{CYCLES}/{cycle_id}/reconciliation",
            files={"file": ("report.csv", content.encode(), "text/csv")},
            headers=desk.approver,
        )

    answers = await asyncio.gather(*(post(report) for _ in range(4)), post(reordered))
    assert [answer.status_code for answer in answers] == [200] * 5, [a.text for a in answers]
    results = [answer.json() for answer in answers]
    summary = [(r["already_applied"], r["applied"], r["unchanged"]) for r in results]
    # One report settled the lines; the same file again is answered with what it did; the
    # other file found every line paid already.
    settled = [r for r in results if not r["already_applied"] and r["applied"]["paid"]]
    assert len(settled) == 1, summary
    assert settled[0]["applied"]["paid"] == len(households), summary
    for result in results:
        if result["already_applied"]:
            assert result["report_id"] in {r["report_id"] for r in results if r is not result}
        elif result is not settled[0]:
            assert sum(result["applied"].values()) == 0, summary
            assert result["unchanged"] == len(households), summary
    assert await desk.balance(agreement) == {
        "received": 100 * BENEFIT,
        "reserved": 0,
        "paid": len(households) * BENEFIT,
    }
    paid = await fetch(
        desk.stack,
        "funding",
        "SELECT status, count(*) AS n FROM payment_line WHERE cycle_id = $1 GROUP BY status",
        uuid.UUID(cycle_id),
    )
    assert {row["status"]: row["n"] for row in paid} == {"paid": len(households)}
    expenditure = await fetch(
        desk.stack,
        "funding",
        "SELECT coalesce(sum(amount_minor), 0) FROM transaction"
        " WHERE agreement_id = $1 AND type = 4",
        uuid.UUID(agreement),
    )
    assert expenditure[0][0] == len(households) * BENEFIT, "expenditure recorded once"
    # On the trail: each report once (the file, and its reordering that changed nothing),
    # however many times it was posted.
    reports = {result["report_id"] for result in results}
    assert len(reports) == 2, summary
    assert len(await _audit_rows(desk, "reconcile", [cycle_id])) == len(reports)


async def _audit_rows(desk: Desk, action: str, cycle_ids: list[str]) -> list[Any]:
    return await fetch(
        desk.stack,
        "funding",
        "SELECT resource_id::text AS resource_id, actor FROM audit_event"
        " WHERE action = $1 AND resource_id = ANY($2::uuid[])",
        action,
        [uuid.UUID(cycle_id) for cycle_id in cycle_ids],
    )
