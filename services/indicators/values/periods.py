"""The periods values are computed for: a year (2026), a quarter (2026Q3) or a month
(2026-07), and what each source is asked for one."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from services.indicators.vocabulary import Periodicity

_PATTERNS: tuple[tuple[Periodicity, re.Pattern[str]], ...] = (
    ("year", re.compile(r"^(\d{4})$")),
    ("quarter", re.compile(r"^(\d{4})Q([1-4])$")),
    ("month", re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")),
)
PERIOD_HELP = "A year (2026), a quarter (2026Q3) or a month (2026-07)."
#: The periods `parse_period` reads, for the document (its years: 1990 to 2100).
PERIOD_PATTERN = r"^(199\d|20\d\d|2100)(Q[1-4]|-(0[1-9]|1[0-2]))?$"


@dataclass(frozen=True)
class Period:
    text: str
    kind: Periodicity
    year: int
    start: date
    end: date


def parse_period(text: str) -> Period:
    """The period `text` names; ValueError when it names none."""
    for kind, pattern in _PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        year = int(found.group(1))
        if not 1990 <= year <= 2100:
            raise ValueError("the year must be between 1990 and 2100")
        if kind == "year":
            return Period(text, kind, year, date(year, 1, 1), date(year, 12, 31))
        if kind == "quarter":
            first = 3 * int(found.group(2)) - 2
            last = first + 2
        else:
            first = last = int(found.group(2))
        end = date(year, last, calendar.monthrange(year, last)[1])
        return Period(text, kind, year, date(year, first, 1), end)
    raise ValueError(PERIOD_HELP)
