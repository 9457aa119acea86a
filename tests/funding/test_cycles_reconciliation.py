"""Reconciling a sent payroll with the provider's report: paid, failed and reversed lines,
the same report twice, conflicting and unknown lines, malformed files, the ledger and the
expenditure moving with the lines, closing, and failed lines paid again by a later
cycle."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import httpx
import openpyxl
import orjson
from sqlalchemy import func, select

from services.funding.models import ExchangeRate, PaymentLine, ReconciliationReport, Transaction
from shared.clock import today
from shared.db import Database
from tests.funding.test_cycles import CYCLES, Payrolls, act, balance, get_cycle, lines_of
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


def csv_report(*rows: tuple[str, str, str, str]) -> bytes:
    lines = ["line_reference,status,provider_reference,date"]
    lines += [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def workbook(header: Sequence[str], *rows: Sequence[object]) -> bytes:
    """An XLSX file of one sheet: `header`, then `rows`."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (header, *rows):
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_report(*rows: tuple[str, str, str, date]) -> bytes:
    return workbook(["Line reference", "Status", "Transaction ID", "Date"], *rows)


async def upload(
    funding: httpx.AsyncClient,
    cycle_id: str,
    headers: dict[str, str],
    content: bytes,
    name: str = "report.csv",
) -> httpx.Response:
    return await funding.post(
        f"{CYCLES}/{cycle_id}/reconciliation",
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


async def expenditures(db: Database, cycle_id: str) -> list[Transaction]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(Transaction)
            .where(Transaction.payment_cycle_id == uuid.UUID(cycle_id), Transaction.type == 4)
            .order_by(Transaction.created_at, Transaction.amount_minor.desc())
        )
        return list(rows)


async def disbursements(db: Database, cycle_id: str) -> list[Transaction]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(Transaction)
            .where(Transaction.payment_cycle_id == uuid.UUID(cycle_id), Transaction.type == 3)
            .order_by(Transaction.created_at)
        )
        return list(rows)


async def test_a_report_settles_lines_moves_the_ledger_and_records_expenditure(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    cycle, funds, refs = await payrolls.sent()
    day = today().isoformat()
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 120_000,
        "paid": 0,
    }
    first = csv_report(
        (refs[0], "paid", "DM-0001", day),
        (refs[1], "PAID", "DM-0002", day),
        (refs[2], "failed", "", day),
    )
    applied = await upload(funding, cycle["id"], approver, first)
    assert applied.status_code == 200, applied.text
    outcome = applied.json()
    assert outcome["applied"] == {"paid": 2, "failed": 1, "reversed": 0}
    assert (outcome["unchanged"], outcome["errors"], outcome["already_applied"]) == (0, [], False)
    assert outcome["paid"] == {"amount_minor": 60_000, "currency": "DJF"}
    assert outcome["released"] == {"amount_minor": 30_000, "currency": "DJF"}
    assert outcome["cycle_status"] == "reconciling"
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 30_000,
        "paid": 60_000,
    }
    [expenditure] = await expenditures(funding_db, cycle["id"])
    assert (expenditure.amount_minor, expenditure.currency, expenditure.value_date) == (
        60_000,
        "DJF",
        today(),
    )
    assert expenditure.agreement_amount_minor == 60_000
    # The failed line's money was disbursed to the provider and never paid out: given back.
    sent, given_back = await disbursements(funding_db, cycle["id"])
    assert (sent.amount_minor, given_back.amount_minor) == (120_000, -30_000)
    assert outcome["transactions"] == [str(expenditure.id), str(given_back.id)]

    # The same file again: recognised, and nothing moves.
    again = await upload(funding, cycle["id"], approver, first)
    assert again.status_code == 200, again.text
    assert again.json()["already_applied"] is True
    assert again.json()["report_id"] == outcome["report_id"]
    assert again.json()["applied"] == outcome["applied"]
    assert len(await expenditures(funding_db, cycle["id"])) == 1
    assert (await balance(funding_db, funds.agreement_id))["paid"] == 60_000

    # A later report: a payment reversed (the money came back), a conflicting status for a
    # line already final, a line reported again as it is, and a line the cycle lacks.
    later = orjson.dumps(
        {
            "lines": [
                {"line_reference": refs[1], "status": "reversed", "date": day},
                {"line_reference": refs[2], "status": "paid", "date": day},
                {
                    "line_reference": refs[0],
                    "status": "paid",
                    "provider_reference": "DM-0001",
                    "date": day,
                },
                {"line_reference": "PC-1999-00001-000001", "status": "paid", "date": day},
            ]
        }
    )
    applied = await upload(funding, cycle["id"], approver, later, "report.json")
    assert applied.status_code == 200, applied.text
    outcome = applied.json()
    assert (outcome["file_format"], outcome["applied"]) == (
        "json",
        {"paid": 0, "failed": 0, "reversed": 1},
    )
    assert outcome["unchanged"] == 1
    assert outcome["error_count"] == 2
    assert outcome["errors"] == [
        {
            "row": 2,
            "column": "status",
            "message": "the line is failed already: it cannot become paid",
        },
        {"row": 4, "column": "line_reference", "message": "no such line in this payment cycle"},
    ]
    assert outcome["refunded"] == {"amount_minor": 30_000, "currency": "DJF"}
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 30_000,
        "paid": 30_000,
    }
    assert [t.amount_minor for t in await expenditures(funding_db, cycle["id"])] == [
        60_000,
        -30_000,
    ]
    statuses = {
        line.reference: (line.status, line.provider_reference)
        for line in await lines_of(funding_db, cycle["id"])
    }
    assert statuses == {
        refs[0]: ("paid", "DM-0001"),
        refs[1]: ("reversed", "DM-0002"),
        refs[2]: ("failed", None),
        refs[3]: ("pending", None),
    }

    # Closing waits for the last line; an XLSX report brings it.
    early = await act(funding, cycle["id"], "close", approver)
    assert early.status_code == 409 and "1 line(s) are still pending" in early.json()["detail"]
    last = xlsx_report((refs[3], "failed", "DM-0004", today()))
    applied = await upload(funding, cycle["id"], approver, last, "report.xlsx")
    assert applied.status_code == 200, applied.text
    assert (applied.json()["file_format"], applied.json()["applied"]["failed"]) == ("xlsx", 1)
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 0,
        "paid": 30_000,
    }
    assert (await act(funding, cycle["id"], "close", officer)).status_code == 403
    closed = await act(funding, cycle["id"], "close", approver)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    after = await upload(funding, cycle["id"], approver, csv_report((refs[3], "paid", "", day)))
    assert after.status_code == 409, "a closed cycle takes no report"


async def test_a_malformed_report_is_refused_naming_row_and_column_and_applies_nothing(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    cycle, funds, refs = await payrolls.sent(households=2)
    day = today().isoformat()
    cases: list[tuple[bytes, list[tuple[int, str]]]] = [
        (b"line_reference,provider_reference,date\nX,Y,2026-01-01\n", [(1, "status")]),
        (
            csv_report(
                (refs[0], "paid", "", day),
                (refs[1], "ok", "", day),
                (refs[0], "paid", "", "01/13/2026"),  # month first: no 13th month
            ),
            [(3, "status"), (4, "line_reference"), (4, "date")],
        ),
        (csv_report((refs[0], "paid", "", "2999-01-01")), [(2, "date")]),
        (csv_report(("", "paid", "", day)), [(2, "line_reference")]),
        (orjson.dumps([{"line_reference": refs[0], "status": "paid"}]), [(1, "date")]),
    ]
    for content, expected in cases:
        response = await upload(funding, cycle["id"], approver, content)
        assert response.status_code == 422, (content, response.text)
        problem = response.json()
        assert problem["type"].endswith("/malformed-report")
        assert [(e["row"], e["column"]) for e in problem["errors"]] == expected, content
        assert all(e["path"] == f"file.row.{e['row']}.{e['column']}" for e in problem["errors"])
    for content in (b"", b"{not json", b'{"lines": 3}', b"PK\x03\x04broken"):
        response = await upload(funding, cycle["id"], approver, content)
        assert response.status_code == 422, (content, response.text)
        assert response.json()["errors"][0]["path"].startswith("file")
    by_officer = await upload(funding, cycle["id"], officer, csv_report((refs[0], "paid", "", day)))
    assert by_officer.status_code == 403, "approvers apply reports"

    # None of these applied anything.
    assert {line.status for line in await lines_of(funding_db, cycle["id"])} == {"pending"}
    async with funding_db.sessionmaker() as session:
        reports = await session.scalar(select(func.count()).select_from(ReconciliationReport))
    assert reports == 0
    assert (await balance(funding_db, funds.agreement_id))["reserved"] == 60_000
    assert (await get_cycle(funding, officer, cycle["id"]))["status"] == "sent"


async def test_a_cycle_takes_reports_only_once_sent(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
) -> None:
    cycle = await payrolls.built(await payrolls.funded(1))
    [line] = await lines_of(funding_db, cycle["id"])
    report = csv_report((line.reference, "paid", "", today().isoformat()))
    draft = await upload(funding, cycle["id"], approver, report)
    assert draft.status_code == 409, "draft"
    assert (await act(funding, cycle["id"], "approve", approver)).status_code == 200
    approved = await upload(funding, cycle["id"], approver, report)
    assert approved.status_code == 409, "approved"
    assert [line.status for line in await lines_of(funding_db, cycle["id"])] == ["pending"]


async def test_failed_and_reversed_households_are_paid_again_by_a_later_cycle(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
) -> None:
    cycle, funds, refs = await payrolls.sent()
    day = today().isoformat()
    report = csv_report(
        (refs[0], "paid", "DM-1", day),
        (refs[1], "failed", "", day),
        (refs[2], "reversed", "DM-3", day),
    )
    assert (await upload(funding, cycle["id"], approver, report)).status_code == 200
    first_lines = {line.reference: line for line in await lines_of(funding_db, cycle["id"])}
    # Neither the failed line nor the one reversed before it was paid was paid out: their
    # disbursement is given back, as their households are disbursed again below.
    assert [t.amount_minor for t in await disbursements(funding_db, cycle["id"])] == [
        120_000,
        -60_000,
    ]

    again = await payrolls.built(funds)
    assert again["lines_count"] == 2
    assert again["excluded"] == {"already_paid": 1, "in_another_cycle": 1}
    reissued = {line.household_id for line in await lines_of(funding_db, again["id"])}
    assert reissued == {first_lines[refs[1]].household_id, first_lines[refs[2]].household_id}
    approved = await act(funding, again["id"], "approve", approver)
    assert approved.status_code == 200, approved.text
    # The reversed payment was never counted as paid: its reservation went back.
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 30_000 + 60_000,
        "paid": 30_000,
    }


async def test_lines_settle_at_the_rates_fixed_on_approval(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    tokens: TokenFactory,
    approver: dict[str, str],
) -> None:
    cycle, funds, refs = await payrolls.sent(households=3, currency="USD")
    assert cycle["reserved"] == {"amount_minor": 50_640, "currency": "USD"}
    # The dollar moves after approval: the agreement is still charged what was reserved.
    async with funding_db.sessionmaker() as session:
        session.add(
            ExchangeRate(currency="USD", rate_date=today(), rate_to_djf=Decimal(200), source="BCD")
        )
        await session.commit()
    day = today().isoformat()
    report = csv_report(
        (refs[0], "paid", "", day), (refs[1], "paid", "", day), (refs[2], "failed", "", day)
    )
    applied = await upload(funding, cycle["id"], approver, report)
    assert applied.status_code == 200, applied.text
    assert applied.json()["released"] == {"amount_minor": 16_880, "currency": "USD"}
    assert await balance(funding_db, funds.agreement_id) == {
        "received": 1_000_000,
        "reserved": 0,
        "paid": 33_760,
    }
    [expenditure] = await expenditures(funding_db, cycle["id"])
    assert (expenditure.amount_minor, expenditure.currency) == (60_000, "DJF")
    assert expenditure.agreement_amount_minor == 33_760, "at the approval's rates"
    assert expenditure.amount_usd_minor == 30_000, "valued in USD at its own date's rate"
    async with funding_db.sessionmaker() as session:
        paid = await session.scalar(
            select(func.count())
            .select_from(PaymentLine)
            .where(PaymentLine.cycle_id == uuid.UUID(cycle["id"]), PaymentLine.status == "paid")
        )
    assert paid == 2
    analyst = as_role(tokens, "analyst")
    assert (await get_cycle(funding, analyst, cycle["id"]))["status"] == "reconciling"
