"""Reading a payment provider's report: CSV, XLSX or JSON, one row per line paid, failed or
reversed. A report that cannot be read as a whole (a missing column, a status or date that
is not one, a line given twice) is refused with the rows and columns at fault, before
anything is applied; whether each line can take its reported status is decided against the
lines afterwards (reconciliation.py).

Columns (case and spaces do not matter; the usual other names are understood):
`line_reference` (or `reference`, `payment_reference`), `status` (paid, failed, reversed),
`provider_reference` (or `transaction_id`; optional), `date` (or `settled_on`,
`transfer_date`, `status_date`: YYYY-MM-DD, not in the future). JSON is an array of objects
with those keys, or `{"lines": [...]}`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import orjson
from openpyxl import load_workbook

from services.funding.cycles.schemas import ReportedLine
from shared.errors import UnprocessableEntity

# An xlsx is a zip: these bound what opening one may cost, whatever its size.
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_RATIO = 100
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
    else:
        table = _xlsx_table(content) if kind == "xlsx" else _csv_table(content)
        rows = _table_rows(table)
    reader = _Reader(on)
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
    def __init__(self, on: date) -> None:
        self.on = on
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
        settled = self._date(row, values.get("date", ""))
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

    def _date(self, row: int, value: str) -> date | None:
        if not value:
            self.fail(row, "date", "missing")
            return None
        try:
            day = date.fromisoformat(value[:10]) if len(value) <= 10 or value[10] in "T " else None
        except ValueError:
            day = None
        if day is None:
            self.fail(row, "date", "not a date (YYYY-MM-DD)")
        elif day > self.on:
            self.fail(row, "date", "in the future")
            return None
        return day


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


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
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedReport(
            "The report is not UTF-8 text.", errors=[{"path": "file", "message": "not UTF-8"}]
        ) from exc
    sample = text[:8192]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise MalformedReport(
            f"The CSV is malformed: {exc}.", errors=[{"path": "file", "message": str(exc)}]
        ) from exc


def _xlsx_table(content: bytes) -> Iterator[list[Any]]:
    unreadable = MalformedReport(
        "This file is not a valid Excel workbook.",
        errors=[{"path": "file", "message": "not a valid .xlsx"}],
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            total = 0
            for entry in archive.infolist():
                total += entry.file_size
                if entry.compress_size and entry.file_size / entry.compress_size > MAX_XLSX_RATIO:
                    raise unreadable
            if total > MAX_XLSX_UNCOMPRESSED:
                raise unreadable
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise unreadable from exc
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


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
