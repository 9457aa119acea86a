"""The calendar of payrolls: Djibouti's dates, and what a period is called for each way a
programme pays (its `benefit_period` in the registry)."""

from __future__ import annotations

import re

from shared.errors import UnprocessableEntity

# benefit_period -> (the shape of its periods, how to say it).
PERIOD_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "quarterly": (re.compile(r"(19|20)\d\dQ[1-4]"), "a quarter such as 2026Q3"),
    "monthly": (re.compile(r"(19|20)\d\d-(0[1-9]|1[0-2])"), "a month such as 2026-07"),
    "yearly": (re.compile(r"(19|20)\d\d"), "a year such as 2026"),
    "one_off": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,9}"),
        "a short label (letters, digits, '.', '_' or '-', 10 at most) such as 2026-EID",
    ),
}


def check_period(period: str, benefit_period: str) -> None:
    """422 naming `body.period` when `period` is not how a programme paying
    `benefit_period` names its periods (a label, for a programme paying once)."""
    pattern, expected = PERIOD_FORMATS.get(benefit_period, PERIOD_FORMATS["one_off"])
    if not pattern.fullmatch(period):
        raise UnprocessableEntity(
            f"This programme pays {benefit_period.replace('_', '-')}: the period must be "
            f"{expected}.",
            errors=[{"path": "body.period", "message": f"expected {expected}"}],
        )
