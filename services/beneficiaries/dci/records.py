"""Registry rows as the standard's records: `Group` (extensions/social/Group.yaml: a
household with `group_identifier`, `place`, `group_size`, `poverty_score`,
`group_head_info` and `member_list`) and `Member` (its members: `member_identifier` and
`demographic_info`, an SRPerson with `identifier`, `name`, `sex`, `birth_date`,
`phone_number`). What the standard has no attribute for goes in `additional_attributes`
as `{name, value}` pairs (common/schema/AttributeNameValue.yaml).

Every value passes `PartnerScope.project` first: fields outside the agreement are not in
the rows, and identifiers are pseudonymised where it says so."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from services.beneficiaries.dci import codes
from services.beneficiaries.partners.fields import HOUSEHOLD_REFERENCES, PROGRAMMES_FIELD
from services.beneficiaries.partners.scope import PartnerScope
from services.beneficiaries.vocabulary import IDENTIFIER_TYPES

_PLACE = {
    "region_code": "region_code",
    "commune_code": "sub_region_code",
    "locality_code": "locality",
    "address": "address",
}
_GROUP_OWN = {
    *_PLACE,
    "gps_latitude",
    "gps_longitude",
    "member_count",
    "pmt_score",
    "registration_date",
    *HOUSEHOLD_REFERENCES,
}
_NAME = {"given_name": "given_name", "father_name": "second_name", "grandfather_name": "surname"}
_MEMBER_OWN = {
    *_NAME,
    "individual_id",
    "sex",
    "birth_date",
    "relationship_to_head",
    "has_disability",
    "education_level",
    "occupation",
    *IDENTIFIER_TYPES,
    *HOUSEHOLD_REFERENCES,
    "region_code",
    "commune_code",
    "locality_code",
}


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _identifier(kind: str, value: Any) -> dict[str, Any]:
    return {"@type": "Identifier", "identifier_type": kind, "identifier_value": str(value)}


def _household_identifiers(scope: PartnerScope, values: dict[str, Any]) -> list[dict[str, Any]]:
    if scope.pseudonymise:
        # household_id and registry_number name one household: one pseudonym.
        present = [values[name] for name in HOUSEHOLD_REFERENCES if values.get(name)]
        return [_identifier(codes.PSEUDONYM, present[0])] if present else []
    answer = []
    if values.get("household_id"):
        answer.append(_identifier("HOUSEHOLD_ID", values["household_id"]))
    if values.get("registry_number"):
        answer.append(_identifier(codes.REGISTRY_NUMBER, values["registry_number"]))
    return answer


def _additional(values: dict[str, Any], own: set[str]) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": _json(value)}
        for name, value in values.items()
        if name not in own and value is not None
    ]


def group(
    scope: PartnerScope,
    household_id: uuid.UUID,
    row: dict[str, Any],
    members: list[tuple[uuid.UUID, bool, dict[str, Any]]],
    enrollments: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    values = scope.project(row, household_id)
    record: dict[str, Any] = {"@type": "Group", "group_type": "household"}
    identifiers = _household_identifiers(scope, values)
    if identifiers:
        record["group_identifier"] = identifiers
    place: dict[str, Any] = {
        target: values[name] for name, target in _PLACE.items() if values.get(name) is not None
    }
    if values.get("gps_latitude") is not None and values.get("gps_longitude") is not None:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": str(values["gps_latitude"]),
            "longitude": str(values["gps_longitude"]),
        }
    if place:
        record["place"] = {"@type": "Place", **place}
    if "member_count" in values:
        record["group_size"] = values["member_count"]
    if values.get("pmt_score") is not None:
        record["poverty_score"] = values["pmt_score"]
        record["poverty_score_type"] = "pmt_log_consumption_per_capita"
    if "registration_date" in values:
        record["registration_date"] = _json(values["registration_date"])
    if members and scope.allowed(_MEMBER_FIELDS_ANY):
        member_records = [
            member(scope, person_id, household_id, data) for person_id, _, data in members
        ]
        if scope.allows("relationship_to_head"):
            heads = [
                m for m, (_, is_head, _) in zip(member_records, members, strict=True) if is_head
            ]
            if heads:
                record["group_head_info"] = heads[0]
        record["member_list"] = member_records
    additional = _additional(values, _GROUP_OWN)
    if enrollments is not None and scope.allows(PROGRAMMES_FIELD):
        additional.append({"name": PROGRAMMES_FIELD, "value": enrollments})
    if additional:
        record["additional_attributes"] = additional
    return record


def member(
    scope: PartnerScope, person_id: uuid.UUID, household_id: uuid.UUID, row: dict[str, Any]
) -> dict[str, Any]:
    values = scope.project(row, household_id)
    record: dict[str, Any] = {"@type": "Member"}
    if values.get("individual_id"):
        kind = codes.PSEUDONYM if scope.pseudonymise else "INDIVIDUAL_ID"
        record["member_identifier"] = [_identifier(kind, values["individual_id"])]
    person: dict[str, Any] = {"@type": "SRPerson"}
    identifiers = [
        _identifier(
            codes.PSEUDONYM if scope.pseudonymise else codes.ID_TYPE_OF_FIELD[id_type], value
        )
        for id_type in IDENTIFIER_TYPES
        if id_type != "phone"
        for value in values.get(id_type) or []
    ]
    if identifiers:
        person["identifier"] = identifiers
    names = {target: values[source] for source, target in _NAME.items() if values.get(source)}
    if names:
        person["name"] = {"@type": "Name", **names}
    if values.get("sex"):
        person["sex"] = codes.SEX.get(values["sex"], "unknown")
    if values.get("birth_date"):
        person["birth_date"] = _json(values["birth_date"])
    if values.get("phone"):
        person["phone_number"] = values["phone"]
    address = {
        target: values[name]
        for name, target in _PLACE.items()
        if name != "address" and values.get(name) is not None
    }
    if address:
        person["address"] = [{"@type": "Address", **address}]
    if len(person) > 1:
        record["demographic_info"] = person
    if values.get("relationship_to_head"):
        record["relationship_head"] = values["relationship_to_head"]
    if "has_disability" in values:
        record["is_disabled"] = values["has_disability"]
    for name in ("education_level", "occupation"):
        if values.get(name) is not None:
            record[name] = values[name]
    additional = _additional(values, _MEMBER_OWN)
    group_identifiers = _household_identifiers(scope, values)
    if group_identifiers:
        additional.insert(0, {"name": "group_identifier", "value": group_identifiers})
    if additional:
        record["additional_attributes"] = additional
    return record


# The person fields a group's member list is made of (the others are the household's).
_MEMBER_FIELDS_ANY = (
    "individual_id",
    *_NAME,
    "sex",
    "birth_date",
    "birth_date_estimated",
    "age",
    "age_group",
    "relationship_to_head",
    "legal_status",
    "nationality",
    "country_of_origin",
    *IDENTIFIER_TYPES,
    "has_disability",
    "pregnant",
    "lactating",
    "education_level",
    "occupation",
)
