"""The registry's closed lists, each defined once: the write schemas validate with them, the
tables check them, and statistics, exports, imports and filters read their values from here.
A value added here is a value every part of the registry accepts."""

from __future__ import annotations

from typing import Literal, get_args

Sex = Literal["F", "M"]
Area = Literal["urban", "rural"]
LegalStatus = Literal["national", "refugee", "asylum_seeker", "migrant", "other"]
Relationship = Literal[
    "head", "spouse", "child", "parent", "sibling", "grandchild", "other_relative", "non_relative"
]
IdentifierType = Literal[
    "national_id", "birth_certificate", "unhcr_individual", "unhcr_case", "wfp_scope", "phone"
]
RegistrationSource = Literal["door_to_door", "social_desk", "field_app", "partner_import"]
DisplacementStatus = Literal["none", "internally_displaced", "refugee", "asylum_seeker", "returnee"]
EducationLevel = Literal[
    "none", "koranic", "primary", "middle", "secondary", "vocational", "tertiary"
]
WashingtonGroupDomain = Literal[
    "seeing", "hearing", "walking", "cognition", "self_care", "communication"
]
DwellingType = Literal["house", "apartment", "traditional_hut", "tent", "shack", "other"]
Tenure = Literal["owner", "tenant", "free_lodging", "informal", "other"]
WallMaterial = Literal["cement", "stone", "wood", "sheet_metal", "mud", "branches", "other"]
RoofMaterial = Literal["concrete", "sheet_metal", "wood", "thatch", "tarpaulin", "other"]
FloorMaterial = Literal["tiles", "cement", "earth", "sand", "other"]
WaterSource = Literal[
    "piped_dwelling",
    "piped_yard",
    "public_tap",
    "protected_well",
    "unprotected_well",
    "tanker",
    "surface",
    "other",
]
Sanitation = Literal["flush_toilet", "improved_latrine", "traditional_latrine", "none"]
Lighting = Literal["electricity", "solar", "generator", "kerosene", "candles", "none"]
CookingFuel = Literal["gas", "electricity", "kerosene", "charcoal", "wood", "other"]
Asset = Literal[
    "radio",
    "television",
    "refrigerator",
    "mobile_phone",
    "computer",
    "air_conditioner",
    "motorbike",
    "car",
    "sewing_machine",
    "solar_panel",
    "goats",
    "sheep",
    "camels",
    "cattle",
]
Shock = Literal["drought", "flood", "job_loss", "death_of_earner", "illness", "displacement"]
ConsentScope = Literal["registry", "programmes", "partner_sharing", "research"]
ConsentMethod = Literal["verbal", "written", "thumbprint", "digital"]
BenefitPeriod = Literal["monthly", "quarterly", "yearly", "one_off"]
ProgrammeStatus = Literal["active", "closed"]
EnrollmentStatus = Literal["active", "suspended", "exited"]

SEXES: tuple[str, ...] = get_args(Sex)
AREAS: tuple[str, ...] = get_args(Area)
LEGAL_STATUSES: tuple[str, ...] = get_args(LegalStatus)
IDENTIFIER_TYPES: tuple[str, ...] = get_args(IdentifierType)
# A UNHCR case number names a family group and a phone is often shared in a household:
# looked up, but not unique.
SHARED_IDENTIFIER_TYPES = ("unhcr_case", "phone")
UNIQUE_IDENTIFIER_TYPES = tuple(t for t in IDENTIFIER_TYPES if t not in SHARED_IDENTIFIER_TYPES)
WASHINGTON_GROUP_DOMAINS: tuple[str, ...] = get_args(WashingtonGroupDomain)
BENEFIT_PERIODS: tuple[str, ...] = get_args(BenefitPeriod)
PROGRAMME_STATUSES: tuple[str, ...] = get_args(ProgrammeStatus)
ENROLLMENT_STATUSES: tuple[str, ...] = get_args(EnrollmentStatus)

# (lowest age, label), youngest first; an age group holds ages up to the next one's lowest.
# Statistics group by them and exports label people with them.
AGE_GROUPS: tuple[tuple[int, str], ...] = (
    (0, "0-4"),
    (5, "5-14"),
    (15, "15-24"),
    (25, "25-64"),
    (65, "65+"),
)
