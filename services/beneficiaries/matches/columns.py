"""The columns of a partner's list, and the spellings of their headers accepted (case,
accents, spaces, hyphens and apostrophes do not matter; English or French)."""

from __future__ import annotations

import re

from services.beneficiaries.names import fold
from shared.errors import UnprocessableEntity

# column -> the headers that name it
SPELLINGS: dict[str, tuple[str, ...]] = {
    "partner_ref": (
        "partner_ref",
        "id",
        "their_id",
        "partner_id",
        "beneficiary_id",
        "wfp_id",
        "record_id",
        "reference",
        "ref",
        "identifiant",
    ),
    "given_name": ("given_name", "first_name", "firstname", "forename", "prenom"),
    "father_name": (
        "father_name",
        "fathers_name",
        "second_name",
        "middle_name",
        "nom_pere",
        "nom_du_pere",
    ),
    "grandfather_name": (
        "grandfather_name",
        "grandfathers_name",
        "third_name",
        "family_name",
        "last_name",
        "surname",
        "nom_grand_pere",
        "nom_de_famille",
    ),
    "full_name": (
        "full_name",
        "fullname",
        "name",
        "beneficiary_name",
        "nom_complet",
        "nom_et_prenom",
    ),
    "birth_date": (
        "birth_date",
        "date_of_birth",
        "dob",
        "birthdate",
        "date_naissance",
        "date_de_naissance",
    ),
    "sex": ("sex", "gender", "sexe", "genre"),
    "phone": ("phone", "phone_number", "mobile", "mobile_number", "msisdn", "telephone", "tel"),
    "unhcr_individual": (
        "unhcr_individual",
        "unhcr_id",
        "unhcr_number",
        "unhcr_individual_number",
        "progres_id",
        "individual_number",
        "hcr_individu",
    ),
    "unhcr_case": ("unhcr_case", "unhcr_case_number", "case_number", "progres_case", "hcr_dossier"),
    "locality_code": (
        "locality_code",
        "location",
        "location_code",
        "locality",
        "code_localite",
        "localite",
    ),
}
COLUMNS = tuple(SPELLINGS)


def header_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(header.replace("'", ""))).strip("_")


_ALIASES = {
    header_key(spelling): column for column, names in SPELLINGS.items() for spelling in names
}


def map_headers(headers: list[str]) -> list[str | None]:
    """The column each header names (None for an empty header); 422, before anything is
    saved, for a header not recognised, a column given twice, or a required one missing."""
    mapped = [_ALIASES.get(header_key(h)) if h.strip() else None for h in headers]
    unknown = [h.strip() for h, c in zip(headers, mapped, strict=True) if c is None and h.strip()]
    twice = sorted({c for c in mapped if c is not None and mapped.count(c) > 1})
    missing = []
    if "partner_ref" not in mapped:
        missing.append("partner_ref (your id for the row)")
    if "given_name" not in mapped and "full_name" not in mapped:
        missing.append("given_name (with father_name, grandfather_name) or full_name")
    if unknown or twice or missing:
        problems = []
        if missing:
            problems.append("missing: " + "; ".join(missing))
        if unknown:
            problems.append("not recognised: " + ", ".join(unknown[:20]))
        if twice:
            problems.append("given twice: " + ", ".join(twice))
        raise UnprocessableEntity(
            "The list's columns are wrong (" + "; ".join(problems) + "). Nothing was saved.",
            missing_columns=missing,
            unknown_columns=unknown[:50],
            duplicate_columns=twice,
            accepted_columns={column: list(names) for column, names in SPELLINGS.items()},
        )
    return mapped
