"""From the file's rows to households the registry validates, and from validation errors to
the cells that caused them (row, column, value, message)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from services.beneficiaries.imports.columns import IDENTIFIER_COLUMNS, WASHINGTON_GROUP
from services.beneficiaries.records.mapping import HOUSEHOLD_FIELDS
from services.beneficiaries.records.schemas import HouseholdWrite
from shared.free_json import NUL, NUL_MESSAGE

# Imported households get ids derived from where they come from and their key in the file:
# the same file (or a corrected one) imported again names the same households.
IMPORT_NAMESPACE = uuid.UUID("6f1c3c52-4f0e-4d59-9e33-2b4a2a3c0d11")
TRUE = frozenset({"yes", "y", "oui", "o", "true", "vrai", "1", "x"})
FALSE = frozenset({"no", "n", "non", "false", "faux", "0"})
_LIVING_CONDITIONS = [field for field in HOUSEHOLD_FIELDS if field.path[0] == "living_conditions"]
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass
class RowError:
    row: int
    column: str | None
    value: str | None
    message: str


@dataclass
class ParsedHousehold:
    key: str
    rows: list[int]
    household: HouseholdWrite | None = None
    errors: list[RowError] = field(default_factory=list)


class _CellError(Exception):
    def __init__(self, column: str, message: str, member: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.member = member  # which of the household's rows, when known


def records(rows: Iterator[list[str]], columns: list[str | None]) -> Iterator[tuple[int, dict]]:
    """(row number as the uploader sees it, {column: text}) for each non-empty data row."""
    for number, values in enumerate(rows, start=2):
        record = {
            column: value.strip()
            for column, value in zip(columns, values, strict=False)
            if column is not None and value is not None
        }
        if any(record.values()):
            yield number, record


def households(records: Iterable[tuple[int, dict]]) -> Iterator[ParsedHousehold]:
    """Consecutive rows sharing a household key make a household. A key seen again after
    another household is an error (rows of a household must follow each other: reading
    the file once, in bounded memory, depends on it)."""
    seen: set[str] = set()
    current: list[tuple[int, dict]] = []
    for number, record in records:
        key = record.get("household_key", "")
        if current and key != current[0][1].get("household_key", ""):
            yield parse_household(current)
            current = []
        if not current and key in seen and key:
            yield ParsedHousehold(
                key,
                [number],
                errors=[
                    RowError(
                        number,
                        "household_key",
                        key,
                        "this household's rows must follow each other; its key appeared earlier",
                    )
                ],
            )
            continue
        if not current:
            seen.add(key)
        current.append((number, record))
    if current:
        yield parse_household(current)


def household_id(source: str, partner: str | None, key: str) -> uuid.UUID:
    return uuid.uuid5(IMPORT_NAMESPACE, f"{source}|{partner or ''}|{key}")


def individual_id(household: uuid.UUID, key: str | None, position: int) -> uuid.UUID:
    """From the person's own key when the file gives one, else their place in the household."""
    return uuid.uuid5(household, f"person|{key}" if key else f"member|{position}")


def parse_household(rows: list[tuple[int, dict]]) -> ParsedHousehold:
    numbers = [number for number, _ in rows]
    first = rows[0][1]
    key = first.get("household_key", "")
    parsed = ParsedHousehold(key, numbers)
    parsed.errors.extend(
        RowError(number, column, None, NUL_MESSAGE)
        for number, record in rows
        for column, value in record.items()
        if NUL in value
    )
    if parsed.errors:
        return parsed
    if not key:
        parsed.errors.append(
            RowError(numbers[0], "household_key", "", "a household key is required")
        )
        return parsed
    try:
        body = _household_body(first, [record for _, record in rows])
    except _CellError as exc:
        row = rows[exc.member][0] if exc.member is not None else numbers[0]
        parsed.errors.append(RowError(row, exc.column, _value(rows, row, exc.column), exc.message))
        return parsed
    try:
        parsed.household = HouseholdWrite.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            row, column = _cell_of(error["loc"], rows, body)
            parsed.errors.append(RowError(row, column, _value(rows, row, column), _message(error)))
    return parsed


def _household_body(first: dict, people: list[dict]) -> dict[str, Any]:
    source = first.get("registration_source", "")
    hid = household_id(source, first.get("partner_id"), first["household_key"])
    location: dict[str, Any] = {"locality_code": first.get("locality_code", "")}
    _optional(location, "area", first.get("area"))
    _optional(location, "address", first.get("address"))
    if first.get("gps_latitude") or first.get("gps_longitude"):
        location["gps"] = {
            "latitude": first.get("gps_latitude") or None,
            "longitude": first.get("gps_longitude") or None,
        }
    conditions: dict[str, Any] = {}
    for condition in _LIVING_CONDITIONS:
        if condition.kind == "list":
            conditions[condition.path[1]] = _list(first.get(condition.name))
        else:
            _optional(conditions, condition.path[1], first.get(condition.name))
    registration: dict[str, Any] = {"source": source, "date": _date(first, "registration_date")}
    for name in ("enumerator_id", "device_id", "submission_id", "partner_id"):
        _optional(registration, name, first.get(name))
    consent: dict[str, Any] = {"given": _bool(first, "consent_given", required=True)}
    _optional(consent, "date", _date(first, "consent_date") if first.get("consent_date") else None)
    consent["scope"] = _list(first.get("consent_scope"))
    _optional(consent, "method", first.get("consent_method"))
    _optional(consent, "notice_version", first.get("consent_notice_version"))
    body: dict[str, Any] = {
        "id": str(hid),
        "location": location,
        "living_conditions": conditions,
        "registration": registration,
        "consent": consent,
        "members": [_member(record, hid, index) for index, record in enumerate(people)],
    }
    _optional(body, "displacement_status", first.get("displacement_status"))
    return body


def _member(record: dict, hid: uuid.UUID, index: int) -> dict[str, Any]:
    try:
        return _member_body(record, hid, index)
    except _CellError as exc:
        exc.member = index
        raise


def _member_body(record: dict, hid: uuid.UUID, index: int) -> dict[str, Any]:
    birth, estimated = _birth(record)
    member: dict[str, Any] = {
        "id": str(individual_id(hid, record.get("individual_key"), index)),
        "given_name": record.get("given_name", ""),
        "sex": record.get("sex", "").upper(),
        "birth_date": birth,
        "birth_date_estimated": estimated or _bool(record, "birth_date_estimated"),
        "relationship_to_head": record.get("relationship_to_head", ""),
        "identifiers": [
            {"type": column, "value": record[column]}
            for column in IDENTIFIER_COLUMNS
            if record.get(column)
        ],
        "disability": {
            domain: _int(record, f"disability_{domain}")
            for domain in WASHINGTON_GROUP
            if record.get(f"disability_{domain}")
        },
        "pregnant": _bool(record, "pregnant"),
        "lactating": _bool(record, "lactating"),
    }
    for name in (
        "father_name",
        "grandfather_name",
        "legal_status",
        "nationality",
        "country_of_origin",
        "education_level",
        "occupation",
    ):
        value = record.get(name)
        if value:
            member[name] = value.upper() if name in ("nationality", "country_of_origin") else value
    return member


def _optional(target: dict, name: str, value: Any) -> None:
    if value not in (None, ""):
        target[name] = value


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").replace(",", ";").split(";") if item.strip()]


def _bool(record: dict, column: str, *, required: bool = False) -> bool:
    """Yes or no; a blank cell is no, unless the column must be answered (consent)."""
    text = record.get(column, "").strip().lower()
    if not text and required:
        raise _CellError(column, "yes or no is required")
    if not text:
        return False
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise _CellError(column, "expected yes or no")


def _int(record: dict, column: str) -> int:
    try:
        return int(record[column])
    except ValueError as exc:
        raise _CellError(column, "expected a whole number") from exc


def _date(record: dict, column: str) -> str:
    text = record.get(column, "")
    if not text:
        raise _CellError(column, "a date is required")
    match = _DMY.match(text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1])).isoformat()
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise _CellError(column, "expected a date as YYYY-MM-DD or DD/MM/YYYY") from exc


def _birth(record: dict) -> tuple[str, bool]:
    """A year alone is an estimated birth date (1 July of that year)."""
    text = record.get("birth_date", "")
    year = _YEAR.match(text)
    if year:
        return f"{year[1]}-07-01", True
    return _date(record, "birth_date"), False


# Where a validation error's location points in the file.
_HOUSEHOLD_COLUMNS = {
    ("location", "locality_code"): "locality_code",
    ("location", "area"): "area",
    ("location", "address"): "address",
    ("location", "gps"): "gps_latitude",
    ("displacement_status",): "displacement_status",
    ("registration",): "registration_source",
    ("registration", "source"): "registration_source",
    ("registration", "date"): "registration_date",
    ("consent",): "consent_method",
    ("consent", "given"): "consent_given",
    ("consent", "date"): "consent_date",
    ("consent", "scope"): "consent_scope",
    ("consent", "method"): "consent_method",
}


def _cell_of(loc: tuple, rows: list[tuple[int, dict]], body: dict) -> tuple[int, str | None]:
    first_row = rows[0][0]
    if loc and loc[0] == "members":
        if len(loc) < 2 or not isinstance(loc[1], int):
            return first_row, "relationship_to_head"
        row = rows[loc[1]][0] if loc[1] < len(rows) else first_row
        if len(loc) >= 4 and loc[2] == "identifiers" and isinstance(loc[3], int):
            identifiers = body["members"][loc[1]]["identifiers"]
            return row, identifiers[loc[3]]["type"] if loc[3] < len(identifiers) else None
        if len(loc) >= 4 and loc[2] == "disability":
            return row, f"disability_{loc[3]}"
        return row, str(loc[2]) if len(loc) >= 3 else None
    if loc and loc[0] == "living_conditions":
        return first_row, str(loc[1]) if len(loc) > 1 else None
    for length in (2, 1):
        column = _HOUSEHOLD_COLUMNS.get(tuple(loc[:length]))
        if column:
            if loc[:2] == ("location", "gps") and len(loc) > 2:
                column = f"gps_{loc[2]}"
            return first_row, column
    return first_row, None


def _value(rows: list[tuple[int, dict]], row: int, column: str | None) -> str | None:
    if column is None:
        return None
    for number, record in rows:
        if number == row:
            value = record.get(column)
            return value[:200] if value else value
    return None


def _message(error: Mapping[str, Any]) -> str:
    message = error.get("msg", "invalid")
    return message.removeprefix("Value error, ")
