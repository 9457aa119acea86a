"""Reading the tables people upload (CSV, XLSX): what every reader of them decides the same
way, whatever it then does with the rows (a registry import, a provider's payment report, a
file of exchange rates)."""

from __future__ import annotations

import zipfile
from datetime import date, datetime

# How many times its compressed size a part of an honest XLSX inflates at most (worksheet
# XML compresses well, but not a hundredfold).
MAX_XLSX_RATIO = 100


def csv_delimiter(sample: str) -> str:
    """ ";" when the start of the file holds more semicolons than commas (what Excel saves
    in a locale with a decimal comma, as in French), else ","."""
    return ";" if sample.count(";") > sample.count(",") else ","


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: "" when empty, a date (or a date-time: its day) as
    YYYY-MM-DD, and a whole number without the ".0" of the float Excel keeps it in."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_refusal(
    archive: zipfile.ZipFile, *, max_uncompressed: int, max_ratio: int = MAX_XLSX_RATIO
) -> str | None:
    """Why an XLSX (a ZIP archive) is not to be opened, if it is not: a part inflating more
    than `max_ratio` times its compressed size (a ZIP bomb), or parts of more than
    `max_uncompressed` bytes in all. Read from the archive's directory, before any part is
    inflated."""
    total = 0
    for entry in archive.infolist():
        total += entry.file_size
        if entry.compress_size and entry.file_size / entry.compress_size > max_ratio:
            return "inflates suspiciously"
    if total > max_uncompressed:
        return "is too large once opened"
    return None
