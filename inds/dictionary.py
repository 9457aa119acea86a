"""The registry's data dictionary (docs/data-dictionary.md), written from the field mapping,
the write schemas' closed lists and the export catalogue, so it cannot drift from the code:
`inds dictionary` writes it, and a test checks the file is what the code says."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from pydantic import BaseModel

from services.beneficiaries.exports.fields import CATALOGUE, analyst_view
from services.beneficiaries.records.mapping import (
    HOUSEHOLD_FIELDS,
    LOCATION_FIELDS,
    PERSON_FIELDS,
    Field,
    Path,
)
from services.beneficiaries.records.schemas import HouseholdWrite, MemberIn

HEADER = """# Data dictionary: the social registry

Written by `inds dictionary` from the code (the field mapping, the schemas' closed lists and
the export catalogue); do not edit by hand. *Field* is the name in exports and in the import
template; *in the API* is where a household or person document holds it. *Personal* fields
(names, contacts, places finer than the locality, identifiers) and *free-text* ones (whatever
was typed: a name or phone may be in it) are never in an analyst's export; *analysts* says
what an analyst's export holds of each field: the value as stored, the date to the month
(`YYYY-MM`), or nothing. Analysts get ages and age groups instead of birth dates.
"""

_FOR_ANALYSTS = {"as_is": "as stored", "month": "to the month", "withheld": "no"}


def _values(annotation: Any) -> tuple[str, ...]:
    """The closed list of values an annotation allows (through Optional and list), if any."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return tuple(str(value) for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for argument in typing.get_args(annotation):
            found = _values(argument)
            if found:
                return found
    return ()


def _annotation(model: type[BaseModel], path: Path) -> Any:
    current: Any = model
    for part in path:
        is_model = isinstance(current, type) and issubclass(current, BaseModel)
        field = current.model_fields.get(part) if is_model else None
        if field is None:
            return None
        current = field.annotation
        for candidate in (current, *typing.get_args(current)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                current = candidate
                break
    return current


_STORED = frozenset((*LOCATION_FIELDS, *HOUSEHOLD_FIELDS, *PERSON_FIELDS))


def _row(field: Field, model: type[BaseModel]) -> str:
    stored = field in _STORED
    in_api = f"`{'.'.join(field.path)}`" if stored else "(computed)"
    values = _values(_annotation(model, field.path)) if stored else ()
    allowed = ", ".join(f"`{value}`" for value in values) if values else ""
    return (
        f"| `{field.name}` | {field.kind} | {'yes' if field.personal else ''} | "
        f"{'yes' if field.free_text else ''} | {_FOR_ANALYSTS[analyst_view(field)]} | "
        f"{in_api} | {field.description} {('Values: ' + allowed + '.') if allowed else ''} |"
    ).replace("  |", " |")


def render() -> str:
    sections = [HEADER]
    for resource, model in (("households", HouseholdWrite), ("individuals", MemberIn)):
        sections.append(f"\n## {resource.capitalize()}\n")
        sections.append("| field | kind | personal | free text | analysts | in the API | meaning |")
        sections.append("| --- | --- | --- | --- | --- | --- | --- |")
        sections.extend(_row(field, model) for field in CATALOGUE[resource].values())  # type: ignore[index]
    return "\n".join(sections) + "\n"
