"""Reading a payment provider's report: CSV, XLSX or JSON, one row per line paid, failed or
reversed. A report that cannot be read as a whole (a missing column, a status or date that
is not one, a line given twice) is refused with the rows and columns at fault, before
anything is applied; whether each line can take its reported status is decided against the
lines afterwards (reconciliation.py).

Columns (case and spaces do not matter; the usual other names are understood):
`line_reference` (or `reference`, `payment_reference`), `status` (paid, failed, reversed),
`provider_reference` (or `transaction_id`; optional), `date` (or `settled_on`,
`transfer_date`, `status_date`; not in the future). JSON is an array of objects with those
keys, or `{"lines": [...]}`.

Dates: ISO 8601 (2026-07-14, with a time or not), or day first as in Djibouti's French
usage, DD/MM/YYYY (14/07/2026; 02/03/2026 is the 2nd of March, never February 3rd). In an
XLSX, a date cell, or a whole number in the date column: an Excel date serial of the 1900
date system (46217 is 2026-07-14). Anything else is refused, naming the row and column.

A CSV is read as UTF-8 (a byte-order mark or not). A file that is not UTF-8 is read as
Windows-1252, what Excel saves a CSV in on a French Windows, if it decodes as that (it
holds no byte Windows-1252 leaves undefined, and no NUL, which UTF-16 text has). The
columns that decide what is applied (references, statuses, dates) are ASCII in any 8-bit
encoding, so the guess cannot change what is applied; at worst a provider reference in
another code page reads oddly. Anything else is refused.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import orjson
from openpyxl import load_workbook

from services.funding.cycles.schemas import ReportedLine
from shared.errors import UnprocessableEntity
from shared.tabular import cell_text, csv_delimiter, xlsx_refusal

# An xlsx is a zip: this (and shared.tabular's bound on how much a part inflates) bounds
# what opening one may cost, whatever its size.
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_ERRORS = 100
STATUSES = ("paid", "failed", "reversed")

_ALIASES = {
    "line_reference": "reference",
    "reference": "reference",
    "payment_reference": "reference",
    "line_ref": "reference",
    "status": "status",
    "provider_reference": "provider_reference",
    "provider_ref": "provider_reference",
    "transaction_id": "provider_reference",
    "date": "date",
    "settled_on": "date",
    "transfer_date": "date",
    "status_date": "date",
}
# The column names errors use (the documented ones).
_COLUMN_NAMES = {
    "reference": "line_reference",
    "status": "status",
    "provider_reference": "provider_reference",
    "date": "date",
}
_REQUIRED = ("reference", "status", "date")
# DD/MM/YYYY, a time after it or not.
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
# Excel's 1900 date system: serial 1 is 1900-01-01, and 60 the 29th of February 1900 that
# never was (kept from Lotus 1-2-3), so from 61 on a serial counts days from 1899-12-30.
_EXCEL_EPOCH = date(1899, 12, 30)
_FIRST_SERIAL, _LAST_SERIAL = 61, 2_958_465  # 1900-03-01, 9999-12-31
_DATE_FORMS = "YYYY-MM-DD or DD/MM/YYYY"


class MalformedReport(UnprocessableEntity):
    type, title = "malformed-report", "Malformed report"


def file_format(content: bytes) -> str:
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if start in (b"[", b"{") else "csv"


def parse(content: bytes, on: date) -> tuple[str, list[ReportedLine]]:
    """The report's format and its rows; `on`: today (no date may be later)."""
    kind = file_format(content)
    if kind == "json":
        rows: Iterator[tuple[int, dict[str, Any]]] = _json_rows(content)
    elif kind == "xlsx":
        rows = _table_rows(_xlsx_table(content))
    else:
        rows = _table_rows(_csv_table(content))
    reader = _Reader(on, serials=kind == "xlsx")
    for number, record in rows:
        reader.read(number, record)
    if reader.errors:
        shown = reader.errors[:MAX_ERRORS]
        raise MalformedReport(
            f"{len(reader.errors)} problem(s) in the report: nothing was applied.",
            errors=shown,
        )
    if not reader.lines:
        raise MalformedReport(
            "The report has no rows.", errors=[{"path": "file", "message": "no rows"}]
        )
    return kind, reader.lines


class _Reader:
    def __init__(self, on: date, *, serials: bool) -> None:
        self.on = on
        self.serials = serials  # numbers in the date column are Excel date serials
        self.lines: list[ReportedLine] = []
        self.errors: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}

    def fail(self, row: int, column: str, message: str) -> None:
        self.errors.append(
            {
                "path": f"file.row.{row}.{_COLUMN_NAMES.get(column, column)}",
                "row": row,
                "column": _COLUMN_NAMES.get(column, column),
                "message": message,
            }
        )

    def read(self, row: int, record: dict[str, Any]) -> None:
        values = {key: _text(value) for key, value in record.items()}
        before = len(self.errors)
        reference = values.get("reference", "")
        if not reference:
            self.fail(row, "reference", "missing")
        elif len(reference) > 40:
            self.fail(row, "reference", "longer than a line reference (40 characters)")
        elif reference in self.seen:
            self.fail(row, "reference", f"this line is given twice (row {self.seen[reference]})")
        status = values.get("status", "").lower()
        if status not in STATUSES:
            self.fail(row, "status", "must be paid, failed or reversed")
        settled = self._date(row, record.get("date"), values.get("date", ""))
        provider_reference = values.get("provider_reference") or None
        if provider_reference is not None and len(provider_reference) > 100:
            self.fail(row, "provider_reference", "longer than 100 characters")
        if len(self.errors) > before or settled is None:
            return
        self.seen[reference] = row
        self.lines.append(
            ReportedLine(
                row=row,
                reference=reference,
                status=status,  # type: ignore[arg-type]
                provider_reference=provider_reference,
                settled_on=settled,
            )
        )

    def _date(self, row: int, raw: Any, value: str) -> date | None:
        if not value:
            self.fail(row, "date", "missing")
            return None
        if self.serials and _is_number(raw):
            day = _serial_date(raw)
            if day is None:
                self.fail(row, "date", "not an Excel date serial (a whole number of days)")
                return None
        else:
            day = _text_date(value)
            if day is None:
                self.fail(row, "date", f"not a date ({_DATE_FORMS})")
                return None
        if day > self.on:
            self.fail(row, "date", "in the future")
            return None
        return day


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _serial_date(serial: int | float) -> date | None:
    if isinstance(serial, float) and not serial.is_integer():
        return None  # a time of day: a date column holds days
    days = int(serial)
    if not _FIRST_SERIAL <= days <= _LAST_SERIAL:
        return None
    return _EXCEL_EPOCH + timedelta(days=days)


def _text_date(value: str) -> date | None:
    """ISO 8601 (a time after it or not), or DD/MM/YYYY."""
    try:
        if len(value) <= 10 or value[10] in "T ":
            return date.fromisoformat(value[:10])
    except ValueError:
        pass
    day_first = _DAY_FIRST.fullmatch(value)
    if day_first is None:
        return None
    day, month, year = (int(part) for part in day_first.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _text(value: Any) -> str:
    return cell_text(value).strip()


def _column(header: Any) -> str | None:
    name = _text(header).lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(name)


def _table_rows(table: Iterator[list[Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    header = next(table, None)
    if header is None:
        raise MalformedReport("The report is empty.", errors=[{"path": "file", "message": "empty"}])
    columns = [_column(name) for name in header]
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise MalformedReport(
            "Columns are missing: " + ", ".join(_COLUMN_NAMES[c] for c in missing) + ".",
            errors=[
                {
                    "path": f"file.row.1.{_COLUMN_NAMES[c]}",
                    "row": 1,
                    "column": _COLUMN_NAMES[c],
                    "message": "missing column",
                }
                for c in missing
            ],
        )
    for number, cells in enumerate(table, start=2):
        if all(_text(cell) == "" for cell in cells):
            continue
        yield number, {column: cell for column, cell in zip(columns, cells, strict=False) if column}


def _csv_table(content: bytes) -> Iterator[list[Any]]:
    text = _decoded(content)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text[:8192]))
    except csv.Error as exc:
        raise MalformedReport(
            f"The CSV is malformed: {exc}.", errors=[{"path": "file", "message": str(exc)}]
        ) from exc


def _decoded(content: bytes) -> str:
    """UTF-8, else Windows-1252 (module docstring), else a 422."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if b"\x00" not in content:
        try:
            return content.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise MalformedReport(
        "The report is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8.",
        errors=[{"path": "file", "message": "not UTF-8 or Windows-1252 text"}],
    )


def _xlsx_table(content: bytes) -> Iterator[list[Any]]:
    """The first worksheet's rows. Opening and reading a workbook fail in many ways (a
    truncated part is an XML ParseError, a workbook without a sheet an IndexError, a bad
    cell a ValueError, a broken archive a zip or zlib error, ...), when it is opened or
    rows later: all of them are the one 422 below, and since a report is applied only once
    read to its end, nothing is applied."""
    unreadable = MalformedReport(
        "This file is not a valid Excel workbook.",
        errors=[{"path": "file", "message": "not a valid .xlsx"}],
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if xlsx_refusal(archive, max_uncompressed=MAX_XLSX_UNCOMPRESSED) is not None:
                raise unreadable
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                yield list(values)
        finally:
            workbook.close()
    except MalformedReport:
        raise
    except Exception as exc:
        raise unreadable from exc


def _json_rows(content: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise MalformedReport(
            "The report is not valid JSON.", errors=[{"path": "file", "message": "invalid JSON"}]
        ) from exc
    items = document.get("lines") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise MalformedReport(
            'A JSON report is an array of lines, or {"lines": [...]}.',
            errors=[{"path": "file", "message": "no array of lines"}],
        )
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise MalformedReport(
                f"Item {number} of the report is not an object.",
                errors=[{"path": f"file.row.{number}", "row": number, "message": "not an object"}],
            )
        record: dict[str, Any] = {}
        for key, value in item.items():
            column = _column(key)
            if column:
                record[column] = value
        yield number, record
