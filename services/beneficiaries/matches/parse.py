"""A partner's list read into the rows matching compares: names (a full name split into its
parts), birth date, sex, and identifiers normalised as the registry stores them. A cell that
cannot be read is left out of the row (matching uses what remains) and noted."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.beneficiaries.imports.parse import read_date, sex_code
from services.beneficiaries.imports.reader import UnreadableFile, rows, sniff_format
from services.beneficiaries.matches.columns import map_headers
from services.beneficiaries.records.schemas import normalise_identifier
from shared.errors import UnprocessableEntity

IDENTIFIER_COLUMNS = ("unhcr_individual", "unhcr_case", "phone")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


@dataclass(frozen=True)
class ListRow:
    number: int  # in the file, the header being row 1
    partner_ref: str
    submitted: dict[str, Any]


def read_list(content: bytes, file_name: str, max_rows: int) -> tuple[str, list[ListRow]]:
    """The file's format and rows; 422 for a file that cannot be read, wrong columns, no
    rows, too many rows or a row without its id (blocking: run in a thread)."""
    try:
        file_format = sniff_format(content[:8], file_name)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"list.{file_format}"
            path.write_bytes(content)
            lines = rows(path, file_format)
            header = next(lines, None)
            if header is None:
                raise UnprocessableEntity("The file is empty. Nothing was saved.")
            columns = map_headers(header)
            found = []
            missing_ref = []
            for number, cells in enumerate(lines, start=2):
                if not any(cell.strip() for cell in cells):
                    continue
                record = {
                    column: cell.strip()
                    for column, cell in zip(columns, cells, strict=False)
                    if column is not None and cell.strip()
                }
                ref = record.pop("partner_ref", "")
                if not ref:
                    missing_ref.append(number)
                    continue
                found.append(ListRow(number, ref[:128], submitted(record)))
                if len(found) > max_rows:
                    raise UnprocessableEntity(
                        f"The list has more than {max_rows} rows: split it. Nothing was saved."
                    )
    except UnreadableFile as exc:
        raise UnprocessableEntity(f"{exc} Nothing was saved.") from exc
    if missing_ref:
        shown = ", ".join(map(str, missing_ref[:20]))
        raise UnprocessableEntity(
            f"Rows without your id (partner_ref): {shown}. Nothing was saved.",
            rows_without_id=missing_ref[:100],
        )
    if not found:
        raise UnprocessableEntity("The list has no rows. Nothing was saved.")
    return file_format, found


def submitted(record: dict[str, str]) -> dict[str, Any]:
    """What matching compares of a row (names, birth date, sex, identifiers, locality), and
    the cells it could not read (`unreadable`)."""
    out: dict[str, Any] = {}
    unreadable: list[str] = []
    given = record.get("given_name")
    father, grandfather = record.get("father_name"), record.get("grandfather_name")
    if not given and record.get("full_name"):
        parts = record["full_name"].split()
        given = parts[0]
        father = father or (parts[1] if len(parts) > 1 else None)
        grandfather = grandfather or (" ".join(parts[2:]) if len(parts) > 2 else None)
    out.update(given_name=given, father_name=father, grandfather_name=grandfather)
    if text := record.get("birth_date"):
        if year := _YEAR.match(text):
            out.update(birth_date=f"{year[1]}-07-01", birth_date_estimated=True)
        else:
            try:
                out.update(birth_date=read_date(text).isoformat(), birth_date_estimated=False)
            except ValueError:
                unreadable.append("birth_date")
    if text := record.get("sex"):
        sex = sex_code(text)
        if sex:
            out["sex"] = sex
        else:
            unreadable.append("sex")
    identifiers = []
    for column in IDENTIFIER_COLUMNS:
        if text := record.get(column):
            try:
                identifiers.append([column, normalise_identifier(column, text)])
            except ValueError:
                unreadable.append(column)
    out["identifiers"] = identifiers
    if locality := record.get("locality_code"):
        out["locality_code"] = locality.upper()
    if unreadable:
        out["unreadable"] = unreadable
    return out
