"""Request bodies as a field app or a social desk would send them."""

from __future__ import annotations

import copy
import uuid
from typing import Any


def member(
    given: str,
    father: str | None = "Ali",
    grandfather: str | None = "Farah",
    *,
    sex: str = "F",
    birth_date: str = "1990-05-17",
    relationship: str = "head",
    **fields: Any,
) -> dict[str, Any]:
    return {
        "given_name": given,
        "father_name": father,
        "grandfather_name": grandfather,
        "sex": sex,
        "birth_date": birth_date,
        "relationship_to_head": relationship,
        **fields,
    }


def household(
    members: list[dict[str, Any]] | None = None,
    *,
    locality: str = "DJ-DJ-BALBALA-PK12",
    **fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": {"locality_code": locality},
        "living_conditions": {
            "dwelling_type": "shack",
            "wall_material": "sheet_metal",
            "rooms": 1,
            "water_source": "public_tap",
            "assets": ["mobile_phone"],
        },
        "registration": {"source": "door_to_door", "date": "2026-03-02", "enumerator_id": "enum-7"},
        "consent": {
            "given": True,
            "date": "2026-03-02",
            "scope": ["registry", "programmes"],
            "method": "thumbprint",
            "notice_version": "2025-1",
        },
        "members": members
        if members is not None
        else [
            member(
                "Fatouma", "Said", "Robleh", identifiers=[{"type": "phone", "value": "77 12 34 56"}]
            ),
            member("Hodan", "Omar", "Said", birth_date="2012-01-09", relationship="child"),
        ],
    }
    body.update(fields)
    return body


def with_ids(body: dict[str, Any]) -> dict[str, Any]:
    """The same household with client-generated ids, as an offline field app sends it."""
    body = copy.deepcopy(body)
    body["id"] = str(uuid.uuid4())
    for person in body["members"]:
        person["id"] = str(uuid.uuid4())
    return body


# An eligibility rule: households of refugee villages with a member who has a disability.
REFUGEES_WITH_DISABILITY = {
    "all": [
        {"field": "is_refugee_village", "op": "eq", "value": True},
        {"any_member": {"field": "has_disability", "op": "eq", "value": True}},
    ]
}


def programme(code: str = "pnsf", **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name_fr": "Programme National de Solidarité Famille",
        "name_en": "National Family Solidarity Programme",
        "pmt_max_consumption": 120_000,
        "benefit_amount": 30_000,
        "benefit_period": "quarterly",
        **fields,
    }
