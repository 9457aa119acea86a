"""Statistics for callers without personal-data access (analysts): the query limits that keep
two answers from singling someone out, and the small-cell protection of the answer
(shared/disclosure.py). Registry staff and the INDS services get exact answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.beneficiaries.access import EXACT_STATS_ROLES
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.records.filters import check_whole_months
from services.beneficiaries.stats.repository import Figures, StatsCounts
from services.beneficiaries.stats.schemas import StatsQuery
from shared.auth import Principal
from shared.disclosure import SUPPRESSED, DisclosureControl, DisclosureRule, protect
from shared.errors import UnprocessableEntity

UNITS = "units"
FIGURE = "figure"


def is_exact(principal: Principal) -> bool:
    return principal.has_any_role(EXACT_STATS_ROLES)


def check_query(query: StatsQuery, principal: Principal) -> None:
    """Two counts a day apart would single out who registered that day, or (ages on two
    days) who had a birthday: a protected caller asks by whole months."""
    if is_exact(principal):
        return
    check_whole_months(query.registered_from, query.registered_to)
    if query.as_of is not None and query.as_of.day != 1:
        raise UnprocessableEntity(
            "Your role counts ages on the first day of a month.",
            errors=[{"path": "query.as_of", "message": "must be the first day of a month"}],
        )


@dataclass
class Shaped:
    """Each row's figures (by measure) and each measure's total as the caller may read
    them, and what was withheld (None: exact)."""

    figures: list[Figures]
    totals: dict[str, int | float | None]
    control: DisclosureControl | None = None


def shaped(
    measures: Sequence[str],
    counts: StatsCounts,
    principal: Principal,
    settings: BeneficiariesSettings,
) -> Shaped:
    """The figures as `principal` may read them. `counts.units[i][measure]`: the
    households, people or enrollments behind row i's figure of the measure — a count's own
    value, or those a sum (consumption, poverty gap) adds up — which decide; the figure
    goes with them. Several measures are each protected as if asked alone: no more is
    shown than asking them one at a time would show."""
    if is_exact(principal):
        return Shaped(counts.figures, dict(counts.totals))
    figures: list[dict[str, Any]] = [{} for _ in counts.rows]
    totals: dict[str, int | float | None] = {}
    withheld: set[int] = set()
    total_withheld = False
    dimensions = list(counts.rows[0]) if counts.rows else []
    for measure in measures:
        protected = protect(
            [
                {**row, FIGURE: row_figures[measure], UNITS: row_units[measure]}
                for row, row_figures, row_units in zip(
                    counts.rows, counts.figures, counts.units, strict=True
                )
            ],
            dimensions=dimensions,
            total=counts.totals[measure],
            total_units=counts.total_units[measure],
            threshold=settings.stats_suppression_threshold,
            units=UNITS,
            drop=(UNITS,),
        )
        for index, row in enumerate(protected.rows):
            figures[index][measure] = row[FIGURE]
            if row.get(SUPPRESSED):
                withheld.add(index)
        totals[measure] = protected.total
        total_withheld = total_withheld or protected.control.total_suppressed
    for index in withheld:
        figures[index][SUPPRESSED] = True
    return Shaped(
        figures,
        totals,
        DisclosureControl(
            threshold=settings.stats_suppression_threshold,
            suppressed_rows=len(withheld),
            total_suppressed=total_withheld,
        ),
    )


def rule(principal: Principal, settings: BeneficiariesSettings) -> DisclosureRule:
    """The protection as `/stats/catalog` publishes it."""
    return DisclosureRule(
        threshold=settings.stats_suppression_threshold,
        applies_to_caller=not is_exact(principal),
        exact_for=list(EXACT_STATS_ROLES),
    )
