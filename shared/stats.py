"""What every aggregate query (`/stats`, reports) parses alike: lists of values in the query
string and the dimensions named in `group_by`. Each service keeps its own measures,
dimensions and SQL; the rules for naming them are one."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from pydantic import Field

from shared.money import validate_currency

LIST_HELP = "One or more values, repeated or comma-separated."
# A list parameter, its values documented as `distinct` and `check_dimensions` take them:
# none empty (`x=a,` is refused). Said in the document only, so that the refusal still
# names the parameter (query.region), not an item's position in it (query.region.1).
QueryValues = Annotated[
    list[str], Field(json_schema_extra={"items": {"type": "string", "minLength": 1}})
]


def split_values(value: Any) -> Any:
    """`x=a,b` and `x=a&x=b` both give [a, b]: the query-string forms clients use."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        return value  # the field's type reports it
    return [part.strip() for item in items for part in item.split(",")]


def parse_items(value: Any, kind: type, what: str) -> Any:
    """The split values as `kind` (int, UUID), so that a bad item is reported against the
    parameter itself (query.year), not against its position in the list (query.year.0)."""
    items = split_values(value)
    if not isinstance(items, list):
        return items
    try:
        return [kind(item) if isinstance(item, str) else item for item in items]
    except ValueError:
        raise ValueError(f"every value must be {what}") from None


def distinct(values: list[Any]) -> list[Any]:
    """The values once each, in the order given; an empty one (`x=a,`) is refused."""
    if any(value == "" for value in values):
        raise ValueError("empty value")
    return list(dict.fromkeys(values))


def check_dimensions(
    names: list[str], known: Collection[str], most: int | None = None
) -> list[str]:
    """`group_by` names each dimension once, among the `known` ones, and at most `most`."""
    if any(not name for name in names):
        raise ValueError("empty dimension name")
    if any(name not in known for name in names):
        raise ValueError("unknown dimension; known: " + ", ".join(known))
    if len(set(names)) != len(names):
        raise ValueError("a dimension is named more than once")
    if most is not None and len(names) > most:
        raise ValueError(f"at most {most} dimensions")
    return names


def plausible_years(years: list[int]) -> list[int]:
    """Years once each, each between 1900 and 2200 (a typo such as 20266 is refused)."""
    if any(not 1900 <= year <= 2200 for year in years):
        raise ValueError("a year between 1900 and 2200")
    return distinct(years)


def currency_codes(codes: list[str]) -> list[str]:
    """ISO 4217 codes once each; the bad code is not echoed back."""
    codes = distinct(codes)
    for code in codes:
        try:
            validate_currency(code)
        except ValueError:
            raise ValueError("not an ISO 4217 currency code such as DJF or USD") from None
    return codes
