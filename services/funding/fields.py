"""Field types the funding service's request bodies share (organisations are the domain every
other one names): IATI organisation identifiers, ISO 3166 countries, and dates, codes and
decimals taken exactly as written, never coerced from another JSON type; and the check that
an update does not empty a field its record needs."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from babel import Locale
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# IATI: `{registration agency}-{identifier in that registry}`, the agency itself a country or
# `XM`/`XI` and a register code: XM-DAC-44000 (World Bank), XM-DAC-41140 (WFP), DJ-RCS-....
IATI_ORG_PATTERN = r"^[A-Z]{2}-[A-Z0-9]+-[A-Za-z0-9._-]+$"
IatiOrgIdentifier = Annotated[
    str,
    StringConstraints(max_length=100, pattern=IATI_ORG_PATTERN),
    Field(
        description="IATI organisation identifier: registration agency and identifier, "
        "e.g. XM-DAC-44000 (World Bank), XM-DAC-41140 (WFP).",
        examples=["XM-DAC-44000"],
    ),
]

# CLDR's territories, less the codes that are not ISO 3166-1 countries (its exceptional
# reservations, EU, UN, the pseudo-locales' and the unknown region).
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)
COUNTRIES = frozenset(
    code
    for code in Locale("en").territories
    if isinstance(code, str) and re.fullmatch("[A-Z]{2}", code) and code not in _NOT_COUNTRIES
)


def _country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    AfterValidator(_country),
    Field(description="ISO 3166-1 alpha-2 country code, e.g. DJ.", examples=["DJ"]),
]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: object) -> object:
    # Pydantic would take 0 for 1970-01-01 and a midnight timestamp for its date.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


#: A calendar date, written YYYY-MM-DD.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _whole_number(value: object) -> object:
    # true and 1.0 are not the code 1.
    if type(value) is not int:
        raise ValueError("must be a whole number (a code)")
    return value


#: Metadata for `Annotated[Literal[1, 2, ...], ExactCode]`: a JSON integer, nothing else.
ExactCode = BeforeValidator(_whole_number)

DECIMAL_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)


def _exact_decimal(value: object) -> object:
    # A JSON number with a fraction is parsed into a binary float before any validator sees
    # it, its digits already lost (1234567890.123456789 arrives as 1234567890.1234567): only
    # a string, or a whole number, carries a decimal exactly. The same rule as amounts
    # (shared/money.py refuses floats).
    if isinstance(value, Decimal) or type(value) is int:
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return value.strip()
    if isinstance(value, float):
        raise ValueError(
            'send the number as a string, e.g. "177.721": a JSON number with decimals is '
            "read as a binary float, which loses digits"
        )
    raise ValueError('must be a decimal number written as a string, e.g. "177.721"')


#: Metadata for `Annotated[Decimal, ExactDecimal, ...]`: a decimal string ("177.721", digits
#: and an optional point, no exponent or grouping) or a JSON integer; never a JSON number
#: with decimals.
ExactDecimal = BeforeValidator(_exact_decimal)


def text(max_length: int) -> object:
    """Metadata for a required text of at most `max_length` characters, not blank (request
    bodies strip surrounding spaces first)."""
    return StringConstraints(min_length=1, max_length=max_length)


Name = Annotated[str, text(200)]
