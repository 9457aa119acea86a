"""Reading an uploaded CSV or Excel file row by row, in constant memory, and refusing files
that are not what they claim (wrong encoding, a spreadsheet that inflates far beyond its size).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

# An xlsx is a zip: these bound what opening one may cost, whatever its size on disk.
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 100


class UnreadableFile(Exception):
    """The file cannot be read as an import file; the message says why, for the uploader."""


def sniff_format(head: bytes, file_name: str) -> str:
    """The format of a file from its first bytes (an xlsx is a zip) and its name."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("This .xlsx file is not a valid Excel workbook.")
    return "csv"


def rows(path: Path, file_format: str) -> Iterator[list[str]]:
    """The file's rows as lists of strings, the header row first."""
    if file_format == "xlsx":
        yield from _xlsx_rows(path)
    else:
        yield from _csv_rows(path)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open("rb") as raw:
        start = raw.read(65536)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"
            try:
                start.decode("utf-8")
            except UnicodeDecodeError as exc:
                # A multi-byte character cut at the end of the sample is fine.
                if exc.start < len(start) - 4:
                    raise UnreadableFile(
                        "The file is not UTF-8 text: in Excel, save it as "
                        "'CSV UTF-8 (comma delimited)'."
                    ) from exc
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        sample = text.read(8192)
        text.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        try:
            yield from csv.reader(text, delimiter=delimiter)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                "The file is not UTF-8 text throughout: in Excel, save it as "
                "'CSV UTF-8 (comma delimited)'."
            ) from exc
        except csv.Error as exc:
            raise UnreadableFile(f"The CSV file is malformed: {exc}.") from exc


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for entry in archive.infolist():
                total += entry.file_size
                if entry.compress_size and entry.file_size / entry.compress_size > MAX_XLSX_RATIO:
                    raise UnreadableFile("This spreadsheet inflates suspiciously: refused.")
            if total > MAX_XLSX_UNCOMPRESSED:
                raise UnreadableFile("This spreadsheet is too large once opened: refused.")
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile("This file is not a valid Excel workbook.") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield ["" if value is None else _cell_text(value) for value in values]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
