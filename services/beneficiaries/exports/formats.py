"""Export file formats: each writer turns batches of rows into bytes to send at once, holding
nothing but its own small state between batches, so an export's memory does not grow with
its size.

Formula injection (OWASP "CSV injection"): a spreadsheet opening a CSV runs a cell that
starts with = + - @ (or tab or carriage return, which some strip first) as a formula, e.g.
=HYPERLINK(...) taking the reader's data elsewhere. CSV text cells starting so get a single
quote in front, which spreadsheets show as text; XLSX cells are typed and the writer marks
such text cells as text that must stay text (shared/xlsx.py). JSON Lines is data for programs and
is written as is.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from services.beneficiaries.records.mapping import Field
from shared.spreadsheet import FORMULA_TRIGGERS

# The same as a set; "" is not in it, so an empty string's [:1] never matches.
_TRIGGER_CHARACTERS = frozenset(FORMULA_TRIGGERS)
LIST_SEPARATOR = ";"
UTF8_BOM = "\ufeff".encode()


class ExportFormat(enum.StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    xlsx = "xlsx"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.jsonl: "application/x-ndjson",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ExportWriter(Protocol):
    def begin(self) -> bytes: ...

    def write(self, rows: Sequence[Sequence[Any]]) -> bytes: ...

    def end(self) -> bytes: ...


class CsvWriter:
    """RFC 4180 CSV in UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the
    local code page and garbles accented names), one header row of field names.

    Dates, numbers and ids are written as they are (str() of a date is ISO 8601, of a float
    its shortest exact form), None as an empty cell; text, lists and booleans are rewritten
    in place, column by column (a function call per cell cost half the export's time)."""

    def __init__(self, fields: Sequence[Field]) -> None:
        self.names = [field.name for field in fields]
        self.texts = [i for i, field in enumerate(fields) if field.kind == "text"]
        self.lists = [i for i, field in enumerate(fields) if field.kind == "list"]
        self.booleans = [i for i, field in enumerate(fields) if field.kind == "boolean"]

    def _encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode()

    def begin(self) -> bytes:
        return UTF8_BOM + self._encode([self.names])

    def write(self, rows: Sequence[Sequence[Any]]) -> bytes:
        texts, lists, booleans = self.texts, self.lists, self.booleans
        triggers = _TRIGGER_CHARACTERS
        cells = []
        for row in rows:
            line = list(row)
            for i in texts:
                value = line[i]
                if type(value) is str and value[:1] in triggers:
                    line[i] = "'" + value
            for i in lists:
                value = line[i]
                if value is not None:
                    joined = LIST_SEPARATOR.join(value)
                    line[i] = "'" + joined if joined[:1] in triggers else joined
            for i in booleans:
                value = line[i]
                if value is not None:
                    line[i] = "true" if value else "false"
            cells.append(line)
        return self._encode(cells)

    def end(self) -> bytes:
        return b""


class JsonLinesWriter:
    """One JSON object per line, keys the field names; lists as arrays, dates ISO 8601."""

    def __init__(self, fields: Sequence[Field]) -> None:
        self.names = [field.name for field in fields]

    def begin(self) -> bytes:
        return b""

    def write(self, rows: Sequence[Sequence[Any]]) -> bytes:
        names = self.names
        # asyncpg hands back its own UUID type, which orjson does not know: str() it.
        return b"".join(
            orjson.dumps(
                dict(zip(names, row, strict=True)), default=str, option=orjson.OPT_APPEND_NEWLINE
            )
            for row in rows
        )

    def end(self) -> bytes:
        return b""
