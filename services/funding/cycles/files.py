"""The payment file: the payroll as the list a payment provider (a mobile-money operator,
WFP) takes, in CSV or XLSX, streamed through a server-side cursor batch by batch so memory
stays flat whatever the payroll's size. Each batch's payees are put on the audit trail
before the batch is sent.

Columns, one row per line in line order:
payment_list_id (the cycle's reference), line_reference (what the provider's report gives
back), household_id, registry_number, person_id (the payee: the household's head),
payee_name (given, father's and grandfather's names), phone (the mobile-money account, in
international form, digits only: 25377123456), amount (major units, a decimal string with
the currency's decimals: "30000", "12.50"), amount_minor (the same in minor units, an
integer), currency, transfer_date (the day the cycle was sent), status, region_code,
locality_code. Only a sent cycle has one (service.for_payment_file).

CSV: UTF-8 with a byte-order mark; text that a spreadsheet would run as a formula gets a
leading single quote (shared/spreadsheet.neutralise). XLSX: typed cells in one worksheet,
such text marked as text (shared/xlsx.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.cycles import lines
from services.funding.models import PaymentCycle
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.clock import DJIBOUTI_TIME, today
from shared.money import minor_to_decimal
from shared.spreadsheet import neutralise
from shared.xlsx import Column, XlsxWriter

FileFormat = Literal["csv", "xlsx"]
BATCH_SIZE = 2000
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMNS = (
    Column("payment_list_id", "text"),
    Column("line_reference", "text"),
    Column("household_id", "text"),
    Column("registry_number", "text"),
    Column("person_id", "text"),
    Column("payee_name", "text"),
    Column("phone", "text"),
    Column("amount", "text"),
    Column("amount_minor", "integer"),
    Column("currency", "text"),
    Column("transfer_date", "date"),
    Column("status", "text"),
    Column("region_code", "text"),
    Column("locality_code", "text"),
)
_TEXT = [index for index, column in enumerate(COLUMNS) if column.kind == "text"]


def transfer_date(cycle: PaymentCycle) -> date:
    return cycle.sent_at.astimezone(DJIBOUTI_TIME).date() if cycle.sent_at else today()


def msisdn(phone: str | None) -> str | None:
    """A phone as mobile-money operators key accounts: E.164 without its plus."""
    if phone is None:
        return None
    return phone[1:] if phone.startswith("+") and phone[1:].isdigit() else phone


class _Csv:
    def begin(self) -> bytes:
        return "\ufeff".encode() + self._encode([[column.name for column in COLUMNS]])

    def write(self, rows: Sequence[list[Any]]) -> bytes:
        for row in rows:
            for index in _TEXT:
                if row[index] is not None:
                    row[index] = neutralise(str(row[index]))
        return self._encode(rows)

    def end(self) -> bytes:
        return b""

    @staticmethod
    def _encode(rows: Sequence[Sequence[Any]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode()


async def chunks(
    session: AsyncSession,
    audit: AuditTrail,
    principal: Principal,
    cycle: PaymentCycle,
    file_format: FileFormat,
    *,
    batch_size: int = BATCH_SIZE,
) -> AsyncIterator[bytes]:
    writer: _Csv | XlsxWriter = (
        _Csv() if file_format == "csv" else XlsxWriter(COLUMNS, cycle.reference, max_sheets=1)
    )
    on = transfer_date(cycle)
    majors: dict[tuple[int, str], Decimal] = {}
    result = None
    try:
        yield writer.begin()
        statement = lines.payment_file(cycle.id).execution_options(yield_per=batch_size)
        result = await session.stream(statement)
        async for batch in result.partitions():
            await audit.record_reads(
                principal,
                "household",
                [(row.household_id, row.household_id) for row in batch],
                detail={"via": "payment_file", "cycle_id": str(cycle.id)},
            )
            values = [_row(cycle.reference, on, majors, row) for row in batch]
            # zlib lets go of the GIL: the XLSX is compressed beside the event loop.
            yield (
                await asyncio.to_thread(writer.write, values)
                if file_format == "xlsx"
                else writer.write(values)
            )
        yield writer.end()
    finally:
        if result is not None:
            with anyio.CancelScope(shield=True):
                await result.close()


def _row(reference: str, on: date, majors: dict[tuple[int, str], Decimal], row: Any) -> list[Any]:
    key = (row.amount_minor, row.currency)
    major = majors.get(key)
    if major is None:
        major = majors[key] = minor_to_decimal(row.amount_minor, row.currency)
    name = " ".join(
        part
        for part in (row.payee_given_name, row.payee_father_name, row.payee_grandfather_name)
        if part
    )
    return [
        reference,
        row.reference,
        str(row.household_id),
        row.registry_number,
        str(row.payee_id) if row.payee_id else None,
        name or None,
        msisdn(row.payee_phone),
        str(major),
        row.amount_minor,
        row.currency,
        on,
        row.status,
        row.region_code,
        row.locality_code,
    ]
