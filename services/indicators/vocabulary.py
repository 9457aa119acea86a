"""The codes this service's records use. Reference data is broken down by the registry's
own codes (its `/stats/catalog` publishes the same ones), so that population and registry
counts meet cell for cell."""

from __future__ import annotations

from typing import Literal, get_args

# ISO 3166-2:DJ: the registry's regions (admin level 1).
REGIONS: dict[str, str] = {
    "DJ-AR": "Arta",
    "DJ-AS": "Ali Sabieh",
    "DJ-DI": "Dikhil",
    "DJ-DJ": "Djibouti",
    "DJ-OB": "Obock",
    "DJ-TA": "Tadjourah",
}
AREAS = ("urban", "rural")
SEXES = ("F", "M")
AGE_GROUPS = ("0-4", "5-14", "15-24", "25-64", "65+")
LEGAL_STATUSES = ("national", "refugee", "asylum_seeker", "migrant", "other")

# The dimensions population figures may be broken down by, with their values.
POPULATION_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "region": tuple(REGIONS),
    "area": AREAS,
    "sex": SEXES,
    "age_group": AGE_GROUPS,
    "legal_status": LEGAL_STATUSES,
}

Periodicity = Literal["year", "quarter", "month"]
PERIODICITIES: tuple[str, ...] = get_args(Periodicity)

PovertyLineKind = Literal["national", "extreme"]
POVERTY_LINE_KINDS: tuple[str, ...] = get_args(PovertyLineKind)
# A poverty line holds for the whole country or for one area.
PovertyLineArea = Literal["all", "urban", "rural"]
POVERTY_LINE_AREAS: tuple[str, ...] = get_args(PovertyLineArea)

# Whether progress towards a target is a rise or a fall of the value.
Direction = Literal["increase", "decrease"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)

MilestoneKind = Literal["baseline", "target"]
MILESTONE_KINDS: tuple[str, ...] = get_args(MilestoneKind)

SnapshotStatus = Literal["queued", "running", "done", "failed"]
SNAPSHOT_STATUSES: tuple[str, ...] = get_args(SnapshotStatus)
