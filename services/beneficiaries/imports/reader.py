"""Reading an uploaded CSV or Excel file row by row, in constant memory, and refusing files
that are not what they claim (wrong encoding, a spreadsheet that inflates far beyond its size).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from openpyxl import load_workbook

from shared.tabular import cell_text, csv_delimiter, xlsx_refusal

# An xlsx is a zip: this bounds what opening one may cost, whatever its size on disk.
MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024


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
        try:
            yield from csv.reader(text, delimiter=csv_delimiter(sample))
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
            reason = xlsx_refusal(archive, max_uncompressed=MAX_XLSX_UNCOMPRESSED)
        if reason:
            raise UnreadableFile(f"This spreadsheet {reason}: refused.")
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile("This file is not a valid Excel workbook.") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [cell_text(value) for value in values]
    finally:
        workbook.close()
