"""The import file's columns: one row per person, the household's columns repeated on each
of its rows (read from its first row), rows of a household one after the other.

Headers are matched without regard to case, accents, spaces or hyphens, in English or French.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.beneficiaries.names import fold
from services.beneficiaries.vocabulary import IDENTIFIER_TYPES, WASHINGTON_GROUP_DOMAINS

WASHINGTON_GROUP = WASHINGTON_GROUP_DOMAINS
IDENTIFIER_COLUMNS = IDENTIFIER_TYPES


@dataclass(frozen=True)
class Column:
    name: str
    french: str
    description: str
    required: bool = False
    household: bool = False  # a household column, read from the household's first row


# A table: one column a line reads better than what the formatter would make of it.
# fmt: off
COLUMNS: tuple[Column, ...] = (
    Column("household_key", "cle_menage", "Your key for the household; its rows share it.", True, True),
    Column("locality_code", "code_localite", "Locality code (GET /admin-areas?level=3).", True, True),
    Column("area", "milieu", "urban or rural (default: the locality's).", household=True),
    Column("address", "adresse", "Address or landmark.", household=True),
    Column("gps_latitude", "gps_latitude", "Decimal degrees.", household=True),
    Column("gps_longitude", "gps_longitude", "Decimal degrees.", household=True),
    Column("dwelling_type", "type_logement", "house, apartment, traditional_hut, tent, shack, other.", household=True),
    Column("tenure", "statut_occupation", "owner, tenant, free_lodging, informal, other.", household=True),
    Column("wall_material", "materiau_murs", "cement, stone, wood, sheet_metal, mud, branches, other.", household=True),
    Column("roof_material", "materiau_toit", "concrete, sheet_metal, wood, thatch, tarpaulin, other.", household=True),
    Column("floor_material", "materiau_sol", "tiles, cement, earth, sand, other.", household=True),
    Column("rooms", "nombre_pieces", "Number of rooms.", household=True),
    Column("water_source", "source_eau", "piped_dwelling, piped_yard, public_tap, protected_well, unprotected_well, tanker, surface, other.", household=True),
    Column("sanitation", "assainissement", "flush_toilet, improved_latrine, traditional_latrine, none.", household=True),
    Column("lighting", "eclairage", "electricity, solar, generator, kerosene, candles, none.", household=True),
    Column("cooking_fuel", "combustible_cuisine", "gas, electricity, kerosene, charcoal, wood, other.", household=True),
    Column("assets", "biens", "Assets separated by ';' (radio;television;goats...).", household=True),
    Column("shocks", "chocs", "Shocks separated by ';' (drought;job_loss...).", household=True),
    Column("displacement_status", "statut_deplacement", "none, internally_displaced, refugee, asylum_seeker, returnee.", household=True),
    Column("registration_source", "source_enregistrement", "door_to_door, social_desk, field_app, partner_import.", True, True),
    Column("registration_date", "date_enregistrement", "YYYY-MM-DD (or DD/MM/YYYY).", True, True),
    Column("enumerator_id", "enqueteur", "Enumerator.", household=True),
    Column("device_id", "appareil", "Device (field app).", household=True),
    Column("submission_id", "soumission", "Submission id (field app).", household=True),
    Column("partner_id", "partenaire", "Partner (partner import).", household=True),
    Column("consent_given", "consentement", "yes/no (oui/non, 1/0, true/false).", True, True),
    Column("consent_date", "date_consentement", "YYYY-MM-DD.", household=True),
    Column("consent_scope", "portee_consentement", "registry;programmes;partner_sharing;research.", household=True),
    Column("consent_method", "methode_consentement", "verbal, written, thumbprint, digital.", household=True),
    Column("consent_notice_version", "version_notice", "Version of the notice read.", household=True),
    Column("individual_key", "cle_individu", "Your key for the person (optional): re-imports keep their ids."),
    Column("given_name", "prenom", "Given name.", True),
    Column("father_name", "nom_pere", "Father's name."),
    Column("grandfather_name", "nom_grand_pere", "Grandfather's (or family) name."),
    Column("sex", "sexe", "F or M.", True),
    Column("birth_date", "date_naissance", "YYYY-MM-DD (or DD/MM/YYYY); a year alone is an estimate.", True),
    Column("birth_date_estimated", "date_naissance_estimee", "yes/no."),
    Column("relationship_to_head", "lien_chef_menage", "head, spouse, child, parent, sibling, grandchild, other_relative, non_relative.", True),
    Column("legal_status", "statut_juridique", "national, refugee, asylum_seeker, migrant, other."),
    Column("nationality", "nationalite", "ISO country code, e.g. DJ, SO, ET, YE."),
    Column("country_of_origin", "pays_origine", "ISO country code."),
    Column("national_id", "cni", "National identity card number."),
    Column("birth_certificate", "acte_naissance", "Birth certificate number."),
    Column("unhcr_individual", "hcr_individu", "UNHCR (proGres) individual number."),
    Column("unhcr_case", "hcr_dossier", "UNHCR case number."),
    Column("wfp_scope", "pam_scope", "WFP SCOPE id."),
    Column("phone", "telephone", "Phone (8 digits or +country)."),
    *(
        Column(f"disability_{domain}", f"handicap_{domain}", "Washington Group: 1 no difficulty .. 4 cannot do.")
        for domain in WASHINGTON_GROUP
    ),
    Column("pregnant", "enceinte", "yes/no."),
    Column("lactating", "allaitante", "yes/no."),
    Column("education_level", "niveau_instruction", "none, koranic, primary, middle, secondary, vocational, tertiary."),
    Column("occupation", "occupation", "Occupation."),
)
# fmt: on
BY_NAME = {column.name: column for column in COLUMNS}
REQUIRED = tuple(column.name for column in COLUMNS if column.required)


def header_key(header: str) -> str:
    return fold(header).replace(" ", "_")


ALIASES: dict[str, str] = {}
for _column in COLUMNS:
    for _alias in (_column.name, _column.french):
        ALIASES[header_key(_alias)] = _column.name


def map_headers(headers: list[str]) -> tuple[list[str | None], list[str]]:
    """For each header, the column it names (None: ignored); and the required columns
    missing."""
    mapped = [ALIASES.get(header_key(h or "")) for h in headers]
    missing = [name for name in REQUIRED if name not in mapped]
    return mapped, missing
