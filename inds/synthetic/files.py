"""The synthetic registry as files: the import CSV (one row per person) or JSON Lines (one
household per line), and the planted duplicates beside them."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from inds.synthetic.generator import PlantedDuplicate
from services.beneficiaries.imports.columns import COLUMNS, IDENTIFIER_COLUMNS
from services.beneficiaries.imports.parse import household_id, individual_id

HEADER = [column.name for column in COLUMNS]


def import_rows(household: dict[str, Any]) -> Iterator[list[str]]:
    """A household as the import file's rows; its key is its (client) id."""
    location = household["location"]
    conditions = household["living_conditions"]
    registration = household["registration"]
    consent = household["consent"]
    shared = {
        "household_key": household["id"],
        "locality_code": location["locality_code"],
        "area": location.get("area") or "",
        **{
            k: "" if v is None else str(v) for k, v in conditions.items() if not isinstance(v, list)
        },
        "assets": ";".join(conditions.get("assets", [])),
        "shocks": ";".join(conditions.get("shocks", [])),
        "displacement_status": household.get("displacement_status", "none"),
        "registration_source": registration["source"],
        "registration_date": registration["date"],
        "enumerator_id": registration.get("enumerator_id") or "",
        "device_id": registration.get("device_id") or "",
        "submission_id": registration.get("submission_id") or "",
        "partner_id": registration.get("partner_id") or "",
        "consent_given": "yes" if consent["given"] else "no",
        "consent_date": consent.get("date") or "",
        "consent_scope": ";".join(consent.get("scope", [])),
        "consent_method": consent.get("method") or "",
        "consent_notice_version": consent.get("notice_version") or "",
    }
    for member in household["members"]:
        row = dict(shared)
        row["individual_key"] = member["id"]
        for key in (
            "given_name",
            "father_name",
            "grandfather_name",
            "sex",
            "birth_date",
            "relationship_to_head",
            "legal_status",
            "nationality",
            "country_of_origin",
            "education_level",
            "occupation",
        ):
            row[key] = member.get(key) or ""
        row["birth_date_estimated"] = "yes" if member.get("birth_date_estimated") else "no"
        row["pregnant"] = "yes" if member.get("pregnant") else "no"
        row["lactating"] = "yes" if member.get("lactating") else "no"
        for identifier in member.get("identifiers", []):
            if identifier["type"] in IDENTIFIER_COLUMNS:
                row[identifier["type"]] = identifier["value"]
        for domain, level in (member.get("disability") or {}).items():
            row[f"disability_{domain}"] = str(level)
        yield [row.get(name, "") for name in HEADER]


def write_csv(path: Path, households: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Write the import CSV; (households, rows) written."""
    count = rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for household in households:
            count += 1
            for row in import_rows(household):
                writer.writerow(row)
                rows += 1
    return count, rows


def write_jsonl(path: Path, households: Iterable[dict[str, Any]]) -> tuple[int, int]:
    count = people = 0
    with path.open("w", encoding="utf-8") as handle:
        for household in households:
            handle.write(json.dumps(household, ensure_ascii=False) + "\n")
            count += 1
            people += len(household["members"])
    return count, people


def write_duplicates(path: Path, planted: list[PlantedDuplicate], *, imported: bool) -> None:
    """The planted re-registrations: who duplicates whom, and what was changed. With
    `imported`, the ids are those the import gives (derived from the file's keys and the
    registration source); otherwise the households' own client ids."""

    def ids(household: str, person: str, source: str) -> tuple[str, str]:
        if not imported:
            return household, person
        derived = household_id(source, None, household)
        return str(derived), str(individual_id(derived, person, 0))

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "original_household_id",
                "original_individual_id",
                "duplicate_household_id",
                "duplicate_individual_id",
                "changes",
            ]
        )
        for duplicate in planted:
            original = ids(
                duplicate.original_household_id,
                duplicate.original_individual_id,
                duplicate.original_source,
            )
            copy = ids(
                duplicate.duplicate_household_id,
                duplicate.duplicate_individual_id,
                duplicate.duplicate_source,
            )
            writer.writerow([*original, *copy, ";".join(duplicate.changes)])
