"""Statistics for callers without personal-data access (analysts): the query limits that keep
two answers from singling someone out, and the small-cell protection of the answer
(shared/disclosure.py). Registry staff and the INDS services get exact answers."""

from __future__ import annotations

from services.beneficiaries.access import EXACT_STATS_ROLES
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.records.filters import check_whole_months
from services.beneficiaries.stats.schemas import StatsAnswer, StatsQuery
from shared.auth import Principal
from shared.disclosure import DisclosureRule, protect
from shared.errors import UnprocessableEntity

UNITS = "units"


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


def shaped(
    answer: StatsAnswer,
    units: list[int],
    total_units: int,
    principal: Principal,
    settings: BeneficiariesSettings,
) -> StatsAnswer:
    """The answer as `principal` may read it. `units[i]`: the households, people or
    enrollments behind row i's figure — a count's own value, or those a sum (consumption,
    poverty gap) adds up — which decide; the figure goes with them."""
    if is_exact(principal):
        return answer
    protected = protect(
        [{**row, UNITS: count} for row, count in zip(answer.rows, units, strict=True)],
        dimensions=answer.group_by,
        total=answer.total or 0,
        total_units=total_units,
        threshold=settings.stats_suppression_threshold,
        units=UNITS,
        drop=(UNITS,),
    )
    return answer.model_copy(
        update={
            "rows": protected.rows,
            "total": protected.total,
            "disclosure_control": protected.control,
        }
    )


def rule(principal: Principal, settings: BeneficiariesSettings) -> DisclosureRule:
    """The protection as `/stats/catalog` publishes it."""
    return DisclosureRule(
        threshold=settings.stats_suppression_threshold,
        applies_to_caller=not is_exact(principal),
        exact_for=list(EXACT_STATS_ROLES),
    )
