"""A DHIS2-style analytics view (as DHIS2's `/api/analytics` answers), for people who
know it: `headers` (one per column: `dx` the indicator, `pe` the period, one per
disaggregation, then `value`, `numerator`, `denominator`), `rows` (every cell as text, as
DHIS2 gives them), and `metaData` — `items` (each code's name in the language asked for)
and `dimensions` (each dimension's codes in the rows). A cell not broken down by a
dimension (the indicator overall) has its code `_T` (total) there, one whose value is not
recorded `_U`. As in DHIS2, a cell with no value (a zero denominator, or figures withheld
from this reader) has no row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.indicators.values.formats.labels import Labels, code_in
from services.indicators.values.formats.language import Language
from services.indicators.values.formats.shape import (
    codes_of,
    dimensions_of,
    figure_text,
    indicators_of,
    period_name,
)
from services.indicators.values.schemas import IndicatorValue

_TEXT = {"valueType": "TEXT", "type": "java.lang.String", "hidden": False, "meta": True}
_NUMBER = {"valueType": "NUMBER", "type": "java.lang.Double", "hidden": False, "meta": False}
_COLUMNS = {
    "dx": ("Données", "Data"),
    "pe": ("Période", "Period"),
    "value": ("Valeur", "Value"),
    "numerator": ("Numérateur", "Numerator"),
    "denominator": ("Dénominateur", "Denominator"),
}
_FIGURES = ("value", "numerator", "denominator")


def _column(name: str, lang: Language) -> str:
    return _COLUMNS[name][0 if lang == "fr" else 1]


def dhis2_period(text: str) -> str:
    """DHIS2's period identifier: 2026, 2026Q3, 202607."""
    return text.replace("-", "")


def analytics(values: Sequence[IndicatorValue], labels: Labels, lang: Language) -> dict[str, Any]:
    dimensions = dimensions_of(values)
    shown = [value for value in values if value.value is not None]
    headers = [
        {"name": "dx", "column": _column("dx", lang), **_TEXT},
        {"name": "pe", "column": _column("pe", lang), **_TEXT},
        *({"name": name, "column": labels.dimension(name, lang), **_TEXT} for name in dimensions),
        *({"name": name, "column": _column(name, lang), **_NUMBER} for name in _FIGURES),
    ]
    rows = [
        [
            value.indicator,
            dhis2_period(value.period),
            *(code_in(value.cell, name) for name in dimensions),
            *(figure_text(getattr(value, figure)) for figure in _FIGURES),
        ]
        for value in shown
    ]
    periods = list(dict.fromkeys(value.period for value in values))
    items: dict[str, dict[str, str]] = {
        "dx": {"name": _column("dx", lang)},
        "pe": {"name": _column("pe", lang)},
    }
    items.update({code: {"name": labels.indicator(code, lang)} for code in indicators_of(values)})
    items.update({dhis2_period(text): {"name": period_name(text, lang)} for text in periods})
    codes = {name: codes_of(values, name) for name in dimensions}
    for name in dimensions:
        items[name] = {"name": labels.dimension(name, lang)}
        items.update({code: {"name": labels.value(name, code, lang)} for code in codes[name]})
    return {
        "headers": headers,
        "metaData": {
            "items": items,
            "dimensions": {
                "dx": indicators_of(values),
                "pe": [dhis2_period(text) for text in periods],
                **codes,
            },
        },
        "rows": rows,
        "headerWidth": len(headers),
        "width": len(headers),
        "height": len(rows),
    }
