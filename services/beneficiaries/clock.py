"""The registry's calendar: the platform's (Djibouti's) today, and ages."""

from __future__ import annotations

from datetime import date

from shared.clock import today

__all__ = ["age_on", "today"]


def age_on(birth_date: date, on: date) -> int:
    """Completed years on `on`."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
