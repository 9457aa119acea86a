"""Text bound for a spreadsheet (CSV exports, error reports, payment lists).

Formula injection (OWASP "CSV injection"): a spreadsheet opening a CSV runs a cell that
starts with = + - @ (or tab or carriage return, which some strip first) as a formula, e.g.
=HYPERLINK(...) taking the reader's data elsewhere. Such cells get a single quote in front,
which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`text` made safe to open in a spreadsheet: quoted when it could start a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_line(values: list[str]) -> str:
    """One CSV line of `values`, each neutralised."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(value) for value in values])
    return buffer.getvalue()
