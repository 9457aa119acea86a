"""Values as CSV, for a spreadsheet: one line per indicator and cell, the indicator's name,
a column per disaggregation the values hold (empty for the indicator overall) with its
label beside it, the figures as exact decimals, and the provenance (definition version,
inputs' as-of, computed at). Column headings stay codes (scripts read them); names and
labels are in the language asked for. Text a spreadsheet would run as a formula is quoted;
figures never are."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from services.indicators.values.formats.labels import Labels
from services.indicators.values.formats.language import Language
from services.indicators.values.formats.shape import dimensions_of, figure_text
from services.indicators.values.schemas import IndicatorValue
from shared.spreadsheet import neutralise

FIGURES = ("value", "numerator", "denominator", "target", "expected")
MEDIA_TYPE = "text/csv; charset=utf-8"


def values_csv(values: Sequence[IndicatorValue], labels: Labels, lang: Language) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheets then read accents right)."""
    dimensions = dimensions_of(values)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "indicator",
            "indicator_name",
            "period",
            *(column for name in dimensions for column in (name, f"{name}_label")),
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
        cells = []
        for name in dimensions:
            code = value.cell.get(name)
            cells += [code or "", "" if name not in value.cell else labels.value(name, code, lang)]
        text = [value.indicator, labels.indicator(value.indicator, lang), value.period, *cells]
        writer.writerow(
            [
                *(neutralise(cell) for cell in text),
                *(figure_text(getattr(value, figure)) for figure in FIGURES),
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
