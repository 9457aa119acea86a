"""Payment statistics for callers who may not read payrolls (analysts): the small-cell
protection of the answer (shared/disclosure.py). A payment line is a household in a
payroll, so the payment measures count households paid or sum what they were paid; the
ledger measures count agreements and transactions, not people, and stay exact."""

from __future__ import annotations

from services.funding.access import EXACT_STATS_ROLES
from services.funding.config import FundingSettings
from services.funding.stats.repository import StatsFigures
from services.funding.stats.schemas import StatsAnswer
from shared.auth import Principal
from shared.disclosure import RULE, DisclosureRule, protect

UNITS = "units"


def is_exact(principal: Principal) -> bool:
    return principal.has_any_role(EXACT_STATS_ROLES)


def shaped(
    answer: StatsAnswer, found: StatsFigures, principal: Principal, settings: FundingSettings
) -> StatsAnswer:
    """The answer as `principal` may read it: `found`'s rows carry the lines each holds,
    which decide, and a sum goes with its lines. The lines themselves never leave."""
    rows = [{name: value for name, value in row.items() if name != UNITS} for row in found.rows]
    if found.total_units is None or is_exact(principal):
        return answer.model_copy(update={"rows": rows})
    protected = protect(
        found.rows,
        dimensions=answer.group_by,
        total=found.total,
        total_units=found.total_units,
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


def rule(principal: Principal, settings: FundingSettings) -> DisclosureRule:
    """The protection as `/stats/catalog` publishes it."""
    return DisclosureRule(
        threshold=settings.stats_suppression_threshold,
        applies_to_caller=not is_exact(principal),
        exact_for=list(EXACT_STATS_ROLES),
        rule="Applies to the payment measures (payment_lines, payment_amount), which count "
        "households paid and sum what they were paid; the ledger measures count agreements "
        "and transactions and are exact for every reader. " + RULE,
    )
