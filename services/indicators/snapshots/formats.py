"""A snapshot's values as CSV, for a spreadsheet: one line per indicator and cell, a column
per disaggregation the snapshot holds (empty for the indicator overall), the figures as
exact decimals, and the provenance (definition version, inputs' as-of, computed at). Text a
spreadsheet would run as a formula is quoted; figures never are."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from services.indicators.values.schemas import IndicatorValue
from shared.spreadsheet import neutralise

FIGURES = ("value", "numerator", "denominator", "target", "expected")


def _text(figure: Decimal | None) -> str:
    return "" if figure is None else format(figure.normalize(), "f")


def values_csv(values: Sequence[IndicatorValue]) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheets then read accents right)."""
    dimensions = sorted({name for value in values for name in value.cell})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "indicator",
            "period",
            *dimensions,
            *FIGURES,
            "unit",
            "status",
            "flagged",
            "suppressed",
            "reason",
            "version",
            "inputs_as_of",
            "computed_at",
        ]
    )
    for value in values:
        text = [
            value.indicator,
            value.period,
            *(value.cell.get(name) or "" for name in dimensions),
        ]
        writer.writerow(
            [
                *(neutralise(cell) for cell in text),
                *(_text(getattr(value, figure)) for figure in FIGURES),
                neutralise(value.unit),
                value.status or "",
                "yes" if value.flagged else "no",
                "yes" if value.suppressed else "no",
                neutralise(value.reason or ""),
                str(value.version),
                " ".join(f"{k}={d.isoformat()}" for k, d in sorted(value.inputs_as_of.items())),
                value.computed_at.isoformat(),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode()
