"""The registry's calendar: dates (ages, "not in the future") are Djibouti's, UTC+3 all year
(a fixed offset: no time-zone database needed on the host)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

DJIBOUTI_TIME = timezone(timedelta(hours=3), "EAT")


def today() -> date:
    return datetime.now(DJIBOUTI_TIME).date()


def age_on(birth_date: date, on: date) -> int:
    """Completed years on `on`."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
