"""A population table as people send it: a CSV (comma or semicolon, UTF-8 or Windows-1252)
with a year, a number of people, and any of region, area, sex, age group and legal status,
headed in English or French, with values written as codes or as plain words. Every problem
is reported with its line and column; nothing of a file with a problem is kept."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from services.indicators.vocabulary import POPULATION_DIMENSIONS, REGIONS
from shared.tabular import csv_delimiter

MAX_ROWS = 100_000
MAX_ERRORS = 20
MAX_PEOPLE = 100_000_000  # more than a country: a typo or a hostile file

_HEADERS = {
    "year": "year",
    "annee": "year",
    "people": "people",
    "population": "people",
    "effectif": "people",
    "region": "region",
    "area": "area",
    "milieu": "area",
    "zone": "area",
    "sex": "sex",
    "sexe": "sex",
    "age_group": "age_group",
    "groupe_age": "age_group",
    "groupe_d_age": "age_group",
    "tranche_age": "age_group",
    "legal_status": "legal_status",
    "statut": "legal_status",
    "statut_legal": "legal_status",
    "statut_juridique": "legal_status",
}
_WORDS: dict[str, dict[str, str]] = {
    "region": {
        _key: code for code, name in REGIONS.items() for _key in (code.lower(), name.lower())
    }
    | {"djibouti ville": "DJ-DJ", "ali-sabieh": "DJ-AS", "tadjoura": "DJ-TA"},
    "area": {"urban": "urban", "urbain": "urban", "rural": "rural"},
    "sex": {
        "f": "F",
        "m": "M",
        "female": "F",
        "male": "M",
        "femme": "F",
        "homme": "M",
        "feminin": "F",
        "masculin": "M",
    },
    "age_group": {group: group for group in POPULATION_DIMENSIONS["age_group"]}
    | {"65 +": "65+", "65 et plus": "65+", "65 and over": "65+"},
    "legal_status": {status: status for status in POPULATION_DIMENSIONS["legal_status"]}
    | {
        "asylum seeker": "asylum_seeker",
        "demandeur d'asile": "asylum_seeker",
        "national": "national",
        "nationaux": "national",
        "refugie": "refugee",
        "refugies": "refugee",
        "migrant": "migrant",
        "autre": "other",
    },
}
_NUMBER = re.compile(r"^[0-9]{1,3}([ \u00a0\u202f.,']?[0-9]{3})*$|^[0-9]+$")


class PopulationFileError(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


@dataclass
class PopulationTable:
    dimensions: list[str]
    cells: list[dict[str, Any]] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted({cell["year"] for cell in self.cells})

    @property
    def people(self) -> int:
        return sum(cell["people"] for cell in self.cells)


def read_population(content: bytes) -> PopulationTable:
    text = _decoded(content)
    reader = csv.reader(io.StringIO(text), delimiter=csv_delimiter(text[:4096]))
    header = next(reader, None)
    if header is None:
        raise PopulationFileError([{"path": "file", "message": "the file is empty"}])
    columns = _columns(header)
    width = len(header)
    dimensions = [name for name in POPULATION_DIMENSIONS if name in columns.values()]
    table = PopulationTable(dimensions)
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if line > MAX_ROWS + 1:
            raise PopulationFileError([{"path": "file", "message": f"more than {MAX_ROWS} rows"}])
        if len(row) > width and any(value.strip() for value in row[width:]):
            # A decimal comma in a comma-separated file, or a shifted row: never guessed.
            errors.append(
                {
                    "path": f"file.line {line}",
                    "message": f"{len(row)} fields where the header has {width} (a number "
                    "with a decimal or grouping comma: quote it, or separate with ';')",
                }
            )
            continue
        cell = _cell(row, columns, line, errors)
        if cell is None:
            continue
        key = (cell["year"], *(cell[name] for name in dimensions))
        if key in seen:
            errors.append(
                {"path": f"file.line {line}", "message": f"the same cell as line {seen[key]}"}
            )
        seen[key] = line
        table.cells.append(cell)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise PopulationFileError(errors)
    if not table.cells:
        raise PopulationFileError([{"path": "file", "message": "the file has no rows"}])
    return table


def _decoded(content: bytes) -> str:
    """UTF-8 (with or without its BOM), else Windows-1252, what Excel saves a CSV in. A NUL
    byte is in no text CSV of either: a spreadsheet, an archive or UTF-16 sent as one."""
    if b"\x00" in content[:65536]:
        raise PopulationFileError(
            [
                {
                    "path": "file",
                    "message": "not a CSV text file (a spreadsheet or UTF-16?): save it as "
                    "CSV, UTF-8 or Windows-1252",
                }
            ]
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _plain(text: str) -> str:
    """Lower case, no accents, spaces and dashes as `_` (headers) — "Année" -> "annee"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _columns(header: list[str]) -> dict[int, str]:
    columns: dict[int, str] = {}
    errors = []
    for index, title in enumerate(header):
        key = re.sub(r"[\s\-']+", "_", _plain(title))
        name = _HEADERS.get(key)
        if name is None:
            if title.strip():
                errors.append(
                    {
                        "path": f"file.column {index + 1}",
                        "message": "unknown column; expected "
                        "year, people and any of " + ", ".join(POPULATION_DIMENSIONS),
                    }
                )
            continue
        if name in columns.values():
            errors.append(
                {"path": f"file.column {index + 1}", "message": f"a second {name} column"}
            )
        columns[index] = name
    for required in ("year", "people"):
        if required not in columns.values():
            errors.append({"path": "file", "message": f"no {required} column"})
    if errors:
        raise PopulationFileError(errors)
    return columns


def _cell(
    row: list[str], columns: dict[int, str], line: int, errors: list[dict[str, Any]]
) -> dict[str, Any] | None:
    cell: dict[str, Any] = {name: None for name in POPULATION_DIMENSIONS}
    problems = len(errors)
    for index, name in columns.items():
        raw = row[index].strip() if index < len(row) else ""
        path = f"file.line {line}.{name}"
        if not raw:
            errors.append({"path": path, "message": "empty"})
        elif name == "year":
            if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
                errors.append({"path": path, "message": "a year between 1900 and 2200"})
            else:
                cell["year"] = int(raw)
        elif name == "people":
            if not _NUMBER.match(raw):
                errors.append({"path": path, "message": "a whole number of people"})
            else:
                people = int(re.sub(r"[^0-9]", "", raw))
                if people > MAX_PEOPLE:
                    errors.append({"path": path, "message": "more people than a country"})
                cell["people"] = people
        else:
            value = _WORDS[name].get(_plain(raw)) or _WORDS[name].get(raw.strip().lower())
            if value is None:
                errors.append(
                    {
                        "path": path,
                        "message": "unknown value; expected one of: "
                        + ", ".join(POPULATION_DIMENSIONS[name]),
                    }
                )
            cell[name] = value
    return cell if len(errors) == problems else None
