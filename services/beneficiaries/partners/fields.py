"""What an agreement can allow: the names of the export field catalogue (exports/fields.py,
one catalogue for every reader of the registry), plus `programmes` — the household's
enrollments in the agreement's programmes (code, status, since), which no analyst export
has but which partners need to avoid assisting a household twice."""

from __future__ import annotations

from services.beneficiaries.exports.fields import CATALOGUE
from services.beneficiaries.vocabulary import IDENTIFIER_TYPES

PROGRAMMES_FIELD = "programmes"
PARTNER_FIELDS: frozenset[str] = frozenset(
    {*CATALOGUE["households"], *CATALOGUE["individuals"], PROGRAMMES_FIELD}
)
# Fields whose values identify a record or a person: pseudonymised for an agreement that
# says so (a household's id and registry number map to the same household pseudonym).
HOUSEHOLD_REFERENCES = ("household_id", "registry_number")
IDENTIFIER_FIELDS: frozenset[str] = frozenset(
    {*HOUSEHOLD_REFERENCES, "individual_id", *IDENTIFIER_TYPES, "head_phone"}
)
# The household fields that describe its head: not shown when the head is a person the
# agreement does not cover (outside its legal statuses).
HEAD_FIELDS: frozenset[str] = frozenset(
    name for name in CATALOGUE["households"] if name.startswith("head_")
)
QUERY_TYPES = ("idtype-value", "predicate", "expression")


def unknown_fields(names: list[str]) -> list[str]:
    return [name for name in names if name not in PARTNER_FIELDS]
