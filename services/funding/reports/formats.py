"""The funding report as CSV: one line per group, then the total; amounts in decimal major
units with their currency's ISO 4217 decimals (30000 for 30,000 DJF, 168.80 for 168.80 USD),
the currency in the column name; text a spreadsheet would run as a formula quoted."""

from __future__ import annotations

import csv
import io
from typing import Any

from services.funding.reports.schemas import Amounts, FundingReport, ReportRow
from shared.money import Money
from shared.spreadsheet import neutralise

MEASURES = ("committed", "received", "disbursed", "paid", "available")
_DIMENSION_COLUMNS = {
    "partner": ("partner_id", "partner_iati_identifier", "partner_name_fr", "partner_name_en"),
    "project": ("project_id", "project_iati_identifier", "project_title_fr", "project_title_en"),
    "year": ("year",),
    "currency": ("currency",),
}


def header(group_by: list[str]) -> list[str]:
    columns = ["row"]
    for name in group_by:
        columns += _DIMENSION_COLUMNS[name]
    for measure in MEASURES:
        columns += [f"{measure}_djf", f"{measure}_usd"]
        if "currency" in group_by:
            columns.append(f"{measure}_in_currency")
    return [*columns, "disbursement_rate", "disbursement_rate_note"]


def report_csv(report: FundingReport) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheets then read accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(report.group_by))
    for row in report.rows:
        writer.writerow(_cells("group", row, report.group_by))
    writer.writerow(_cells("total", report.total, report.group_by))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cells(kind: str, row: ReportRow, group_by: list[str]) -> list[str]:
    cells = [kind]
    for name in group_by:
        cells += _dimension_cells(kind, name, row)
    for measure in MEASURES:
        amounts: Amounts | None = getattr(row, measure)
        figures: list[Money | None] = [amounts.djf, amounts.usd] if amounts else [None, None]
        if "currency" in group_by:
            figures.append(amounts.in_currency if amounts else None)
        cells += [_major(amount) for amount in figures]
    rate = row.disbursement_rate
    return [*cells, rate.value or "", rate.reason or ""]


def _dimension_cells(kind: str, name: str, row: ReportRow) -> list[str]:
    width = len(_DIMENSION_COLUMNS[name])
    value: Any = getattr(row, name)
    if kind == "total" or value is None:
        return [""] * width
    if name == "partner":
        texts = [str(value.id), value.iati_identifier, value.name_fr, value.name_en]
    elif name == "project":
        texts = [str(value.id), value.iati_identifier, value.title_fr, value.title_en]
    else:
        texts = [str(value)]
    return [neutralise(text) for text in texts]


def _major(amount: Money | None) -> str:
    return "" if amount is None else str(amount.major)
