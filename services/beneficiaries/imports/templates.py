"""The import template: the columns with an example household, as CSV or Excel."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from services.beneficiaries.imports.columns import COLUMNS

EXAMPLE = [
    {
        "household_key": "HH-0001",
        "locality_code": "DJ-DJ-BALBALA-PK12",
        "area": "urban",
        "dwelling_type": "shack",
        "wall_material": "sheet_metal",
        "rooms": "1",
        "water_source": "public_tap",
        "assets": "mobile_phone;radio",
        "registration_source": "door_to_door",
        "registration_date": "2026-03-02",
        "enumerator_id": "ENUM-007",
        "consent_given": "yes",
        "consent_date": "2026-03-02",
        "consent_scope": "registry;programmes",
        "consent_method": "thumbprint",
        "given_name": "Fatouma",
        "father_name": "Said",
        "grandfather_name": "Robleh",
        "sex": "F",
        "birth_date": "1988-05-17",
        "relationship_to_head": "head",
        "legal_status": "national",
        "nationality": "DJ",
        "phone": "77123456",
    },
    {
        "household_key": "HH-0001",
        "given_name": "Hodan",
        "father_name": "Omar",
        "grandfather_name": "Said",
        "sex": "F",
        "birth_date": "2014",
        "relationship_to_head": "child",
        "legal_status": "national",
    },
]


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.name for column in COLUMNS])
    for example in EXAMPLE:
        writer.writerow([example.get(column.name, "") for column in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "households"
    sheet.append([column.name for column in COLUMNS])
    for example in EXAMPLE:
        sheet.append([example.get(column.name, "") for column in COLUMNS])
    guide = workbook.create_sheet("columns")
    guide.append(["column", "en français", "required", "description"])
    for column in COLUMNS:
        guide.append(
            [column.name, column.french, "yes" if column.required else "", column.description]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
