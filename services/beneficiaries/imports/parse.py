"""From the file's rows to households the registry validates, and from validation errors to
the cells that caused them (row, column, value, message)."""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from services.beneficiaries.clock import today
from services.beneficiaries.imports.columns import IDENTIFIER_COLUMNS, WASHINGTON_GROUP
from services.beneficiaries.models import AdminArea
from services.beneficiaries.names import fold
from services.beneficiaries.records.mapping import HOUSEHOLD_FIELDS
from services.beneficiaries.records.schemas import (
    HouseholdWrite,
    MemberIn,
    check_one_head,
    normalise_identifier,
)
from shared.free_json import NUL, NUL_MESSAGE

# Imported households get ids derived from where they come from and their key in the file:
# the same file (or a corrected one) imported again names the same households.
IMPORT_NAMESPACE = uuid.UUID("6f1c3c52-4f0e-4d59-9e33-2b4a2a3c0d11")
TRUE = frozenset({"yes", "y", "oui", "o", "true", "vrai", "1", "x"})
FALSE = frozenset({"no", "n", "non", "false", "faux", "0"})
_LIVING_CONDITIONS = [field for field in HOUSEHOLD_FIELDS if field.path[0] == "living_conditions"]
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_REGISTRATION_DETAILS = ("enumerator_id", "device_id", "submission_id", "partner_id")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
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
    # What the file claims, valid or not (checked against the registry): (row, type, value)
    identifiers: list[tuple[int, str, str]] = field(default_factory=list)
    submission: tuple[str, str] | None = None


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


def households(
    records: Iterable[tuple[int, dict]], localities: Mapping[str, AdminArea] | None = None
) -> Iterator[ParsedHousehold]:
    """Consecutive rows sharing a household key make a household. A key seen again after
    another household is an error (rows of a household must follow each other: reading
    the file once, in bounded memory, depends on it)."""
    seen: set[str] = set()
    current: list[tuple[int, dict]] = []
    for number, record in records:
        key = record.get("household_key", "")
        if current and key != current[0][1].get("household_key", ""):
            yield parse_household(current, localities)
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
        yield parse_household(current, localities)


def household_id(source: str, partner: str | None, key: str) -> uuid.UUID:
    return uuid.uuid5(IMPORT_NAMESPACE, f"{source}|{partner or ''}|{key}")


def individual_id(household: uuid.UUID, key: str | None, position: int) -> uuid.UUID:
    """From the person's own key when the file gives one, else their place in the household."""
    return uuid.uuid5(household, f"person|{key}" if key else f"member|{position}")


def parse_household(
    rows: list[tuple[int, dict]], localities: Mapping[str, AdminArea] | None = None
) -> ParsedHousehold:
    """The household of these rows, validated by the API's own schema, with every problem
    found in its cells at once: those of reading them (a date that does not exist), those of
    the schema (an unknown sex), and, given `localities`, an unknown locality."""
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
    cells = _Cells(rows)
    body = _household_body(cells, first, [record for _, record in rows])
    parsed.identifiers, parsed.submission = _claims(body, numbers)
    try:
        parsed.household = HouseholdWrite.model_validate(body)
    except ValidationError as exc:
        members_failed = False
        for error in exc.errors():
            row, column = _cell_of(error["loc"], rows, body)
            members_failed = members_failed or error["loc"][:1] == ("members",)
            cells.add(row, column, _message(error))
        if members_failed:
            # The household's own rule about its members is checked only once every member
            # is valid: checked here on what the file says, so it is reported now too.
            _one_head(cells, body["members"], numbers[0])
    if localities is not None:
        _locality(cells, localities, first, numbers[0])
    parsed.errors = cells.problems
    if parsed.errors:
        parsed.household = None
    return parsed


class _Cells:
    """The problems found in a household's cells, at most one a cell (the first found: a
    date that cannot be read is not also reported as a date the schema refuses)."""

    def __init__(self, rows: list[tuple[int, dict]]) -> None:
        self.rows = rows
        self.problems: list[RowError] = []
        self._reported: set[tuple[int, str | None]] = set()

    def add(self, row: int, column: str | None, message: str) -> None:
        if (row, column) in self._reported:
            return
        self._reported.add((row, column))
        self.problems.append(RowError(row, column, _value(self.rows, row, column), message))

    def has(self, row: int, column: str) -> bool:
        return (row, column) in self._reported


def _household_body(cells: _Cells, first: dict, people: list[dict]) -> dict[str, Any]:
    row = cells.rows[0][0]
    source = _vocabulary(first.get("registration_source", ""))
    hid = household_id(
        first.get("registration_source", ""), first.get("partner_id"), first["household_key"]
    )
    location: dict[str, Any] = {"locality_code": first.get("locality_code", "").upper()}
    _optional(location, "area", _vocabulary(first.get("area", ""), _AREAS))
    _optional(location, "address", first.get("address"))
    if first.get("gps_latitude") or first.get("gps_longitude"):
        location["gps"] = {
            "latitude": _decimal(first.get("gps_latitude")),
            "longitude": _decimal(first.get("gps_longitude")),
        }
    conditions: dict[str, Any] = {}
    for condition in _LIVING_CONDITIONS:
        if condition.kind == "list":
            conditions[condition.path[1]] = [
                _vocabulary(item) for item in _list(first.get(condition.name))
            ]
        elif condition.kind == "text":
            _optional(conditions, condition.path[1], _vocabulary(first.get(condition.name, "")))
        else:
            _optional(conditions, condition.path[1], first.get(condition.name))
    registration: dict[str, Any] = {
        "source": source,
        "date": _date(cells, row, first, "registration_date"),
    }
    for name in _REGISTRATION_DETAILS:
        _optional(registration, name, first.get(name))
    consent: dict[str, Any] = {"given": _bool(cells, row, first, "consent_given", required=True)}
    if first.get("consent_date"):
        consent["date"] = _date(cells, row, first, "consent_date")
    consent["scope"] = [_vocabulary(item) for item in _list(first.get("consent_scope"))]
    _optional(consent, "method", _vocabulary(first.get("consent_method", "")))
    _optional(consent, "notice_version", first.get("consent_notice_version"))
    body: dict[str, Any] = {
        "id": str(hid),
        "location": location,
        "living_conditions": conditions,
        "registration": registration,
        "consent": consent,
        "members": [
            _member(cells, number, record, hid, index)
            for index, (number, record) in enumerate(cells.rows)
        ],
    }
    _optional(body, "displacement_status", _vocabulary(first.get("displacement_status", "")))
    return body


def _member(cells: _Cells, row: int, record: dict, hid: uuid.UUID, index: int) -> dict[str, Any]:
    birth, estimated = _birth(cells, row, record)
    member: dict[str, Any] = {
        "id": str(individual_id(hid, record.get("individual_key"), index)),
        "given_name": record.get("given_name", ""),
        "sex": _sex(record.get("sex", "")),
        "birth_date": birth,
        "birth_date_estimated": estimated or _bool(cells, row, record, "birth_date_estimated"),
        "relationship_to_head": _vocabulary(record.get("relationship_to_head", ""), _RELATIONSHIPS),
        "identifiers": [
            {"type": column, "value": record[column]}
            for column in IDENTIFIER_COLUMNS
            if record.get(column)
        ],
        "disability": {
            domain: _int(cells, row, record, f"disability_{domain}")
            for domain in WASHINGTON_GROUP
            if record.get(f"disability_{domain}")
        },
        "pregnant": _bool(cells, row, record, "pregnant"),
        "lactating": _bool(cells, row, record, "lactating"),
    }
    for name in ("father_name", "grandfather_name", "occupation"):
        _optional(member, name, record.get(name))
    for name in ("legal_status", "education_level"):
        _optional(member, name, _vocabulary(record.get(name, "")))
    for name in ("nationality", "country_of_origin"):
        _optional(member, name, record.get(name, "").upper())
    return member


def _claims(
    body: dict[str, Any], numbers: list[int]
) -> tuple[list[tuple[int, str, str]], tuple[str, str] | None]:
    """The identifiers (row, type, normalised value) and the submission the household
    claims, read from the file even when the household is invalid: a clash with the registry
    is reported with its other problems."""
    identifiers = []
    for row, member in zip(numbers, body["members"], strict=True):
        for identifier in member["identifiers"]:
            try:
                value = normalise_identifier(identifier["type"], identifier["value"])
            except ValueError:
                continue  # the schema says why
            identifiers.append((row, identifier["type"], value))
    registration = body["registration"]
    submission = registration.get("submission_id")
    return identifiers, (registration["source"], submission) if submission else None


def _one_head(cells: _Cells, members: list[dict[str, Any]], row: int) -> None:
    try:
        check_one_head(
            [
                MemberIn.model_construct(relationship_to_head=m["relationship_to_head"])
                for m in members
            ]
        )
    except ValueError as exc:
        cells.add(row, "relationship_to_head", str(exc))


def _locality(cells: _Cells, localities: Mapping[str, AdminArea], first: dict, row: int) -> None:
    if cells.has(row, "locality_code"):
        return
    code = first.get("locality_code", "").upper()
    locality = localities.get(code)
    if locality is None:
        cells.add(row, "locality_code", "not a known locality")
    elif not (first.get("area") or locality.area):
        cells.add(row, "area", "this locality has urban and rural parts: say which")


def _optional(target: dict, name: str, value: Any) -> None:
    if value not in (None, ""):
        target[name] = value


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").replace(",", ";").split(";") if item.strip()]


def _decimal(text: str | None) -> str | None:
    """A decimal comma (Excel in French) read as a point."""
    return text.replace(",", ".") if text else None


# Values as people write them, folded (lower case, no accents, words joined by "_"), to
# the registry's: French and English.
_SEXES = {
    **dict.fromkeys(
        ("f", "w", "female", "femme", "feminin", "woman", "fille", "girl", "dheddig"), "F"
    ),
    **dict.fromkeys(("m", "h", "male", "homme", "masculin", "man", "garcon", "boy", "lab"), "M"),
}
_AREAS = {"urbain": "urban", "urbaine": "urban", "rurale": "rural"}
_RELATIONSHIPS = {
    **dict.fromkeys(("chef", "chef_de_menage", "chef_menage", "household_head"), "head"),
    **dict.fromkeys(
        ("epoux", "epouse", "conjoint", "conjointe", "wife", "husband", "mari", "femme"),
        "spouse",
    ),
    **dict.fromkeys(("enfant", "fils", "fille", "son", "daughter"), "child"),
    **dict.fromkeys(("pere", "mere", "father", "mother"), "parent"),
    **dict.fromkeys(("frere", "soeur", "brother", "sister"), "sibling"),
    **dict.fromkeys(
        ("petit_fils", "petite_fille", "petit_enfant", "petits_enfants", "grandson"),
        "grandchild",
    ),
    **dict.fromkeys(("autre_parent", "autre_membre_de_la_famille"), "other_relative"),
    **dict.fromkeys(("non_apparente", "sans_lien", "aucun_lien"), "non_relative"),
}


def _vocabulary(text: str, synonyms: Mapping[str, str] | None = None) -> str:
    """A closed-list value as the registry spells it ("Public tap" -> public_tap), left as
    written when it is none the schema will know (its message then lists the values)."""
    if not text:
        return text
    key = fold(text).replace(" ", "_")
    if not key:
        return text
    return (synonyms or {}).get(key, key)


def sex_code(text: str) -> str | None:
    """F or M from a sex as people write it (French, English, Somali), None if unknown."""
    return _SEXES.get(fold(text))


def _sex(text: str) -> str:
    return (sex_code(text) or text.upper()) if text else text


def _bool(cells: _Cells, row: int, record: dict, column: str, *, required: bool = False) -> Any:
    """Yes or no; a blank cell is no, unless the column must be answered (consent)."""
    text = record.get(column, "").strip()
    if not text:
        if required:
            cells.add(row, column, "yes or no is required")
            return text
        return False
    for word in (text.lower(), fold(text)):
        if word in TRUE:
            return True
        if word in FALSE:
            return False
    cells.add(row, column, "expected yes or no")
    return text


def _int(cells: _Cells, row: int, record: dict, column: str) -> Any:
    try:
        return int(record[column])
    except ValueError:
        cells.add(row, column, "expected a whole number")
        return record[column]


def _date(cells: _Cells, row: int, record: dict, column: str) -> str:
    text = record.get(column, "")
    if not text:
        cells.add(row, column, "a date is required")
        return text
    try:
        return read_date(text).isoformat()
    except ValueError as exc:
        cells.add(row, column, str(exc))
        return text


def _birth(cells: _Cells, row: int, record: dict) -> tuple[str, bool]:
    """A year alone is an estimated birth date (1 July of that year)."""
    text = record.get("birth_date", "")
    year = _YEAR.match(text)
    if year:
        return f"{year[1]}-07-01", True
    return _date(cells, row, record, "birth_date"), False


def read_date(text: str, *, today_: date | None = None) -> date:
    """A date as spreadsheets and people write it: YYYY-MM-DD (a time after it ignored),
    DD/MM/YYYY (also with '.' or '-'), or DD/MM/YY, the two-digit year read in the latest
    century that does not put it in the future (05 is 2005, 87 is 1987). The error says
    what is wrong with the date, for the uploader."""
    text = text.strip()
    iso = _ISO.match(text)
    if iso:
        year, month, day = int(iso[1]), int(iso[2]), int(iso[3])
    elif match := _DMY.match(text):
        day, month, year = int(match[1]), int(match[2]), int(match[3])
        if len(match[3]) == 2:
            current = (today_ or today()).year
            year += 2000 if 2000 + year <= current else 1900
    elif _SERIAL.match(text):
        raise ValueError(
            "a number, not a date (a spreadsheet's date serial?): write it as DD/MM/YYYY"
        )
    else:
        raise ValueError("expected a date as DD/MM/YYYY or YYYY-MM-DD")
    if not 1 <= month <= 12:
        swapped = not iso and 1 <= day <= 12
        hint = " (dates are written day/month/year)" if swapped else ""
        raise ValueError(f"there is no month {month}{hint}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"there is no day {day} in {calendar.month_name[month]} {year}") from None


# Where a validation error's location points in the file.
_HOUSEHOLD_COLUMNS: dict[tuple[str, ...], str] = {
    ("location", "locality_code"): "locality_code",
    ("location", "area"): "area",
    ("location", "address"): "address",
    ("location", "gps"): "gps_latitude",
    ("displacement_status",): "displacement_status",
    ("registration",): "registration_source",
    ("registration", "source"): "registration_source",
    ("registration", "date"): "registration_date",
    **{("registration", name): name for name in _REGISTRATION_DETAILS},
    ("consent",): "consent_method",
    ("consent", "given"): "consent_given",
    ("consent", "notice_version"): "consent_notice_version",
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
