"""Names for what values are broken down by, in French and English: the indicators' own
names, the dimensions', and their values' (this service's vocabulary for fixed sets such as
sex or legal status; the services' catalogue labels for regions, programmes, partners...,
which are proper names). A snapshot keeps the catalogue's labels and the indicators' names
as they were when it ran (`Labels.frozen`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.indicators.values.formats.language import Language

# The code of "every value" of a dimension (the indicator overall, or a cell not broken
# down by it), SDMX's cross-domain code for a total.
TOTAL = "_T"
# The code of a cell whose value the registry does not know (a household without a region).
UNKNOWN = "_U"

_DIMENSIONS: dict[str, tuple[str, str]] = {
    "region": ("Région", "Region"),
    "commune": ("Commune", "Commune"),
    "locality": ("Localité", "Locality"),
    "area": ("Milieu de résidence", "Area"),
    "refugee_village": ("Village de réfugiés", "Refugee village"),
    "sex": ("Sexe", "Sex"),
    "age_group": ("Groupe d'âge", "Age group"),
    "legal_status": ("Statut juridique", "Legal status"),
    "displacement_status": ("Situation de déplacement", "Displacement status"),
    "disability": ("Handicap", "Disability"),
    "programme": ("Programme", "Programme"),
    "enrollment_status": ("Statut d'inscription", "Enrollment status"),
    "pmt_band": ("Tranche de consommation prédite", "Predicted consumption band"),
    "partner": ("Partenaire", "Partner"),
    "project": ("Projet", "Project"),
    "line_status": ("Statut du paiement", "Payment status"),
    "currency": ("Devise", "Currency"),
    "period": ("Période", "Period"),
    "year": ("Année", "Year"),
}
_VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "sex": {"F": ("Féminin", "Female"), "M": ("Masculin", "Male")},
    "area": {"urban": ("Urbain", "Urban"), "rural": ("Rural", "Rural")},
    "legal_status": {
        "national": ("Nationaux", "Nationals"),
        "refugee": ("Réfugiés", "Refugees"),
        "asylum_seeker": ("Demandeurs d'asile", "Asylum seekers"),
        "migrant": ("Migrants", "Migrants"),
        "other": ("Autres", "Others"),
    },
    "age_group": {
        "0-4": ("0 à 4 ans", "Aged 0 to 4"),
        "5-14": ("5 à 14 ans", "Aged 5 to 14"),
        "15-24": ("15 à 24 ans", "Aged 15 to 24"),
        "25-64": ("25 à 64 ans", "Aged 25 to 64"),
        "65+": ("65 ans et plus", "Aged 65 and over"),
    },
    "enrollment_status": {
        "active": ("Actif", "Active"),
        "suspended": ("Suspendu", "Suspended"),
        "exited": ("Sorti", "Exited"),
    },
}
_BOOLEANS = {"true": ("Oui", "Yes"), "false": ("Non", "No")}
_TOTAL_NAMES = ("Total", "Total")
_UNKNOWN_NAMES = ("Non renseigné", "Not recorded")
_POSITION = {"fr": 0, "en": 1}


def code_in(cell: Mapping[str, str | None], dimension: str) -> str:
    """The cell's code for `dimension`: its value, TOTAL when the cell is not broken down
    by it, UNKNOWN when its value is null."""
    if dimension not in cell:
        return TOTAL
    value = cell[dimension]
    return UNKNOWN if value is None else value


@dataclass(frozen=True)
class Labels:
    # Indicator code -> {"fr": name, "en": name}.
    indicators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Dimension -> value -> the label the services' catalogue gives it.
    catalogue: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def indicator(self, code: str, lang: Language) -> str:
        return self.indicators.get(code, {}).get(lang) or code

    def dimension(self, name: str, lang: Language) -> str:
        names = _DIMENSIONS.get(name)
        return name if names is None else names[_POSITION[lang]]

    def value(self, dimension: str, value: str | None, lang: Language) -> str:
        if value == TOTAL:
            return _TOTAL_NAMES[_POSITION[lang]]
        if value is None or value == UNKNOWN:
            return _UNKNOWN_NAMES[_POSITION[lang]]
        fixed = _VALUES.get(dimension, {}).get(value) or _BOOLEANS.get(value)
        if fixed is not None:
            return fixed[_POSITION[lang]]
        return self.catalogue.get(dimension, {}).get(value) or value

    def only(self, dimensions: Iterable[str]) -> Labels:
        """Keeping the catalogue labels of `dimensions` only (what a snapshot stores)."""
        kept = set(dimensions)
        return Labels(
            self.indicators, {name: dict(v) for name, v in self.catalogue.items() if name in kept}
        )

    def frozen(self) -> dict[str, Any]:
        return {"indicators": dict(self.indicators), "catalogue": dict(self.catalogue)}

    @classmethod
    def thawed(cls, stored: Mapping[str, Any] | None) -> Labels:
        stored = stored or {}
        return cls(stored.get("indicators", {}), stored.get("catalogue", {}))
