"""What every results format needs to know of a set of values: the dimensions their
cells use, the values each takes, and the period's names."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from babel.dates import format_date

from services.indicators.values.formats.labels import code_in
from services.indicators.values.formats.language import Language
from services.indicators.values.periods import parse_period
from services.indicators.values.schemas import IndicatorValue


def figure_text(figure: Decimal | None) -> str:
    """A figure as the JSON rows write it (`12.5`, never `1.25E+1`); empty when none."""
    return "" if figure is None else format(figure.normalize(), "f")


def dimensions_of(values: Sequence[IndicatorValue]) -> list[str]:
    """The dimensions the cells use, in the order they first appear."""
    return list(dict.fromkeys(name for value in values for name in value.cell))


def indicators_of(values: Sequence[IndicatorValue]) -> list[str]:
    return list(dict.fromkeys(value.indicator for value in values))


def codes_of(values: Sequence[IndicatorValue], dimension: str) -> list[str]:
    """The codes `dimension` takes in the cells (labels.code_in), sorted."""
    return sorted({code_in(value.cell, dimension) for value in values})


def period_name(text: str, lang: Language) -> str:
    period = parse_period(text)
    if period.kind == "year":
        return text
    pattern = "QQQ y" if period.kind == "quarter" else "LLLL y"
    return format_date(period.start, pattern, locale=lang)
