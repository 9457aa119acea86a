"""What can be counted and by what: the measures, the dimensions and their value sets, the
filters. Pure data, shared by the query validation, the SQL builder and `GET /stats/catalog`,
so the three cannot disagree."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from services.beneficiaries.vocabulary import (
    AGE_GROUPS,
    AREAS,
    ENROLLMENT_STATUSES,
    LEGAL_STATUSES,
    SEXES,
)

Measure = Literal[
    "households",
    "individuals",
    "enrollments",
    "consumption",
    "poor_individuals",
    "poverty_gap",
    "poverty_gap_squared",
    "poverty_gap_ratio",
    "poverty_gap_ratio_squared",
    "pmt_eligible",
]
FilterType = Literal["list[string]", "boolean", "integer", "date"]

MEASURES: dict[Measure, str] = {
    "households": "Active households. Person dimensions and filters (sex, age_group, "
    "legal_status, disability) describe the household head.",
    "individuals": "Active members of active households. Household dimensions and filters "
    "describe the person's household.",
    "enrollments": "Enrollment records (a household in a programme) of active households, "
    "whatever their status unless filtered by enrollment_status. Person dimensions describe "
    "the household head. A household that left a programme and came back has two.",
    "consumption": "Predicted consumption (DJF per year, the exp of the household's PMT "
    "score) summed over the active members of active households: each person adds their "
    "household's per-person figure, so a household adds its total. Unscored households add "
    "nothing. Dimensions as for individuals.",
    "poor_individuals": "Individuals (as for individuals) whose household's predicted "
    "consumption per person y is below the poverty line z of the household's area (see "
    "`poverty_lines`): the numerator of FGT P0.",
    "poverty_gap": "The sum over the individuals below their area's line of (z - y), in DJF.",
    "poverty_gap_squared": "The sum over the individuals below their area's line of "
    "(z - y)^2, in DJF squared.",
    "poverty_gap_ratio": "The sum over the individuals below their area's line of the "
    "normalised gap (z - y) / z, to 6 decimal places: the numerator of FGT P1, whose "
    "denominator is the individuals with a PMT score (individuals|pmt_band!=unscored).",
    "poverty_gap_ratio_squared": "The sum over the individuals below their area's line of "
    "((z - y) / z)^2, to 6 decimal places: the numerator of FGT P2 (denominator as for P1).",
    "pmt_eligible": "Eligibility by the PMT: one unit per active household and programme "
    "with a PMT threshold whose predicted consumption per person is below it. programme is "
    "that programme, and enrollment_status the household's status in it (active before "
    "suspended before exited; null: not enrolled), so a household eligible for two "
    "programmes counts once in each, and the total counts pairs. Person dimensions "
    "describe the head. Exclusion error: (pmt_eligible - pmt_eligible|enrollment_status="
    "active) / pmt_eligible; inclusion error: (households|enrollment_status=active - "
    "pmt_eligible|enrollment_status=active) / households|enrollment_status=active, by "
    "programme.",
}

# Measures summed rather than counted, with their units; the others count units.
SUM_UNITS: dict[str, str] = {
    "consumption": "DJF per year",
    "poverty_gap": "DJF per year",
    "poverty_gap_squared": "DJF squared",
    "poverty_gap_ratio": "people",
    "poverty_gap_ratio_squared": "people",
}
# Sums of fractions, given to 6 decimal places (the other figures are whole numbers).
FRACTION_MEASURES = frozenset({"poverty_gap_ratio", "poverty_gap_ratio_squared"})
# Measures of individuals read against poverty lines (DJF per person per year): one per
# area (`poverty_lines`), or one for every area (`poverty_line`); and all those computed
# from predicted consumption.
LINE_MEASURES = frozenset(
    {
        "poor_individuals",
        "poverty_gap",
        "poverty_gap_squared",
        "poverty_gap_ratio",
        "poverty_gap_ratio_squared",
    }
)
CONSUMPTION_MEASURES = LINE_MEASURES | {"consumption"}
# Measures of the same units (active members of active households, dimensions as for
# individuals): several of them can be asked in one request, answered from one scan.
PERSON_MEASURES = CONSUMPTION_MEASURES | {"individuals"}
MAX_MEASURES = len(PERSON_MEASURES)
MAX_POVERTY_LINE = 100_000_000

MAX_DIMENSIONS = 5

# Counts are of the registry as it is now; with an `as_of` in the past, people born after it
# are still counted, in their own group rather than silently among the 0-4.
NOT_YET_BORN = "not_yet_born"
UNSCORED = "unscored"

# Where a dimension's value comes from: the household, the person (the individual counted,
# or the household head when households or enrollments are counted), or the enrollment.
Level = Literal["household", "person", "enrollment"]
# Where its possible values are known: fixed here, read from a table, or open.
ValueSource = Literal["fixed", "settings", "admin_area", "programme", "open"]


@dataclass(frozen=True)
class Dimension:
    name: str
    level: Level
    description: str
    values: ValueSource
    boolean: bool = False
    # The admin_area level whose codes are this dimension's values.
    area_level: int | None = None


DIMENSIONS: dict[str, Dimension] = {
    dimension.name: dimension
    for dimension in (
        Dimension(
            "region", "household", "Region (admin level 1) code.", "admin_area", area_level=1
        ),
        Dimension(
            "commune",
            "household",
            "Commune or sub-prefecture (admin level 2) code.",
            "admin_area",
            area_level=2,
        ),
        Dimension(
            "locality", "household", "Locality (admin level 3) code.", "admin_area", area_level=3
        ),
        Dimension("area", "household", "Urban or rural, as recorded on the household.", "fixed"),
        Dimension(
            "refugee_village",
            "household",
            "Whether the household lives in a refugee village (Ali Addeh, Holl Holl, Markazi).",
            "fixed",
            boolean=True,
        ),
        Dimension(
            "displacement_status",
            "household",
            "The household's displacement status as recorded ('none' when not displaced).",
            "open",
        ),
        Dimension(
            "pmt_band",
            "household",
            "Band of predicted consumption (DJF per person per year, exp of the PMT score); "
            "'unscored' when the household has no score.",
            "settings",
        ),
        Dimension("sex", "person", "Sex (null: a household with no recorded head).", "fixed"),
        Dimension(
            "age_group",
            "person",
            "Age in completed years on `as_of` (default today), from the birth date; "
            f"'{NOT_YET_BORN}' for people born after `as_of`.",
            "fixed",
        ),
        Dimension("legal_status", "person", "National, refugee, asylum seeker...", "fixed"),
        Dimension(
            "disability",
            "person",
            "Whether the person has a disability (Washington Group: a lot of difficulty or "
            "cannot do at all in any domain).",
            "fixed",
            boolean=True,
        ),
        Dimension(
            "programme",
            "enrollment",
            "Programme code. Counting households or individuals, a household enrolled in two "
            "programmes counts in both groups (the total counts it once), and null groups "
            "those with no enrollment.",
            "programme",
        ),
        Dimension(
            "enrollment_status",
            "enrollment",
            "Current status of the enrollment (active, suspended, exited). Counting "
            "households or individuals, a household counts in the group of each of its "
            "enrollments' statuses, and null groups those with no enrollment.",
            "fixed",
        ),
    )
}

# Labels where the value alone is not plain words.
VALUE_LABELS = {
    "F": "female",
    "M": "male",
    "asylum_seeker": "asylum seeker",
    "0-4": "aged 0 to 4",
    "5-14": "aged 5 to 14",
    "15-24": "aged 15 to 24",
    "25-64": "aged 25 to 64",
    "65+": "aged 65 and over",
    NOT_YET_BORN: "born after as_of",
    UNSCORED: "no PMT score",
}

FIXED_VALUES: dict[str, tuple[str, ...]] = {
    "area": AREAS,
    "sex": SEXES,
    "legal_status": LEGAL_STATUSES,
    "enrollment_status": ENROLLMENT_STATUSES,
    "age_group": (NOT_YET_BORN, *(label for _, label in AGE_GROUPS)),
}

# Filters that are not a dimension's values: ranges.
RANGE_FILTERS: dict[str, tuple[FilterType, str]] = {
    "pmt_min": (
        "integer",
        "Predicted consumption (DJF per person per year) at least this; unscored "
        "households are left out.",
    ),
    "pmt_max": (
        "integer",
        "Predicted consumption (DJF per person per year) at most this; unscored "
        "households are left out.",
    ),
    "registered_from": ("date", "Household registered on or after this date."),
    "registered_to": ("date", "Household registered on or before this date."),
}


@dataclass(frozen=True)
class PmtBand:
    value: str
    label: str
    # ln of the band's lower edge in DJF: the stored score is ln(consumption), so comparing
    # the score itself costs nothing per row.
    lowest_score: Decimal | None


def pmt_bands(edges: list[int]) -> tuple[PmtBand, ...]:
    """The bands the edges cut, lowest first (`unscored` is not among them):
    [60000, 100000] -> "<60000", "60000-99999", ">=100000". A band holds consumption from its
    lower edge included to the next edge excluded."""
    ordered = sorted(set(edges))
    if not ordered or ordered[0] <= 0:
        raise ValueError("PMT band edges must be positive amounts")
    bands = [PmtBand(f"<{ordered[0]}", f"below {ordered[0]} DJF", None)]
    for lower, upper in itertools.pairwise(ordered):
        label = f"{lower} to {upper - 1} DJF"
        bands.append(PmtBand(f"{lower}-{upper - 1}", label, log_consumption(lower)))
    last = ordered[-1]
    bands.append(PmtBand(f">={last}", f"{last} DJF and over", log_consumption(last)))
    return tuple(bands)


def pmt_band_values(edges: list[int]) -> tuple[str, ...]:
    """The pmt_band values in their order: the bands, then `unscored`."""
    return (*(band.value for band in pmt_bands(edges)), UNSCORED)


def log_consumption(amount: int) -> Decimal:
    """ln(amount) to 12 places, far more than the stored score's 5, so score >= ln(edge)
    decides as exp(score) >= edge would."""
    return Decimal(repr(math.log(amount))).quantize(Decimal("1e-12"))


def years_before(day: date, years: int) -> date:
    """The day `years` years before `day`; 29 February falls back to the 28th.

    Someone born on or before `years_before(as_of, n)` is at least n years old on `as_of`
    (the same rule as clock.age_on)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
