"""Field types this service's request bodies share."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints, WithJsonSchema

Code = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"),
    Field(
        description="Letters, digits, `.`, `_` and `-`, at most 40 (e.g. SNPS-2018-2022, A1, "
        "OS1.2).",
        examples=["SNPS-2018-2022"],
    ),
]
# An indicator's code is also how other expressions name it: `#{CODE}`.
IndicatorCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$"),
    Field(
        description="A letter, then letters, digits and `_`, at most 40: how expressions "
        "name the indicator (`#{COV_PNSF}`).",
        examples=["COV_PNSF"],
    ),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Year = Annotated[int, Field(ge=1900, le=2200, strict=True)]

# What the framework and the action plan name in the other services, checked there on save.
ProgrammeCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(description="A registry programme's code, e.g. pnsf.", examples=["pnsf"]),
]
ProjectIdentifier = Annotated[
    str,
    StringConstraints(max_length=150, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    Field(
        description="A funding project's IATI activity identifier, e.g. XM-DAC-44000-P173181.",
        examples=["XM-DAC-44000-P173181"],
    ),
]
OrganisationIdentifier = Annotated[
    str,
    StringConstraints(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    Field(
        description="A funding organisation's IATI identifier, e.g. DJ-GOV-ADDS.",
        examples=["DJ-GOV-ADDS"],
    ),
]


def exact_decimal(value: object) -> object:
    """100 or "100" or "0.001"; never a JSON number with decimals (a binary float)."""
    if type(value) is int or isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return value.strip()
    raise ValueError('a whole number, or a decimal written as a string ("0.5")')


def exact_decimal_schema(
    digits: int, decimals: int, description: str, *, positive: bool = False
) -> WithJsonSchema:
    """What `exact_decimal` and the digit limits take, for the document: a whole number,
    or a decimal written as a string (a JSON number with decimals is refused)."""
    whole = 10 ** (digits - decimals) - 1
    sign = "" if positive else "-?"
    lowest = 1 if positive else -whole
    integer = {"type": "integer", "minimum": lowest, "maximum": whole}
    text = rf"^{sign}\d{{1,{digits - decimals}}}(\.\d{{1,{decimals}}})?$"
    return WithJsonSchema(
        {
            "description": description,
            "anyOf": [integer, {"type": "string", "pattern": text}],
        }
    )


# A figure of an indicator (a baseline, a target): exact, never a float.
Figure = Annotated[
    Decimal,
    BeforeValidator(exact_decimal),
    Field(max_digits=24, decimal_places=6),
    exact_decimal_schema(24, 6, 'A whole number or a string ("12.5").'),
]
