"""A value from its numerator and denominator: no value and a reason, never an error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.indicators.expressions.evaluator import Outcome
from services.indicators.values.compute import ratio

HUNDRED = Decimal(100)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (Outcome(Decimal(1)), Outcome(Decimal(3)), (Decimal("33.333333"), None)),
        (Outcome(Decimal(2)), Outcome(Decimal(3)), (Decimal("66.666667"), None)),
        (Outcome(Decimal(5)), None, (Decimal(500), None)),
        (Outcome(Decimal(5)), Outcome(Decimal(0)), (None, "the denominator is zero")),
        (Outcome(Decimal(5)), Outcome(None, "no figures"), (None, "denominator: no figures")),
        (
            Outcome(None, "division by zero"),
            Outcome(Decimal(1)),
            (None, "numerator: division by zero"),
        ),
        (
            Outcome(Decimal("1e40")),
            Outcome(Decimal("1e-30")),
            (None, "the value is too large to give"),
        ),
    ],
)
def test_ratio(
    numerator: Outcome, denominator: Outcome | None, expected: tuple[Decimal | None, str | None]
) -> None:
    assert ratio(HUNDRED, numerator, denominator) == expected
