"""The platform's calendar: "today" (ages, "not in the future", a payroll's transfer date, a
report's as-of) is Djibouti's, UTC+3 all year (a fixed offset: no time-zone database needed
on the host)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

DJIBOUTI_TIME = timezone(timedelta(hours=3), "EAT")


def today() -> date:
    return datetime.now(DJIBOUTI_TIME).date()
