"""The funding report's one statement: the ledger's facts (facts.py) summed per group with
GROUPING SETS, the groups' organisations and projects joined on afterwards for their names.

    SELECT grouped.*, organisation.iati_identifier, ..., project.title_en
    FROM (SELECT partner, project, year, sum(committed_djf), ..., grouping(...) AS is_total
          FROM (<agreements> UNION ALL <transactions of types 1, 3, 4>) AS fact
          GROUP BY GROUPING SETS ((partner, project, year), ())) AS grouped
    LEFT JOIN organisation ... LEFT JOIN project ...
    ORDER BY is_total, organisation.iati_identifier, project.iati_identifier, year

Agreements and transactions are each read once; the joins are on primary keys of a few
hundred rows. Payment lines are never read: payrolls record their payments as expenditure
transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import Organisation, Project
from services.funding.reports.facts import ALL_COLUMNS, LedgerFilter, all_facts, grouped

_organisation = Organisation.__table__
_project = Project.__table__


def statement_for(group_by: Sequence[str], ledger: LedgerFilter) -> Select[Any]:
    """Public so tests and benchmarks can EXPLAIN it."""
    sums = grouped(all_facts(ledger), group_by, ALL_COLUMNS).subquery("grouped")
    columns: list[Any] = [sums]
    source: Any = sums
    sort_keys: dict[str, Any] = {name: sums.c[name] for name in group_by}
    if "partner" in group_by:
        partner = _organisation.alias("partner_org")
        source = source.outerjoin(partner, partner.c.id == sums.c.partner)
        columns += [
            partner.c.iati_identifier.label("partner_iati_identifier"),
            partner.c.name_fr.label("partner_name_fr"),
            partner.c.name_en.label("partner_name_en"),
        ]
        sort_keys["partner"] = partner.c.iati_identifier
    if "project" in group_by:
        project = _project.alias("project_row")
        source = source.outerjoin(project, project.c.id == sums.c.project)
        columns += [
            project.c.iati_identifier.label("project_iati_identifier"),
            project.c.title_fr.label("project_title_fr"),
            project.c.title_en.label("project_title_en"),
        ]
        sort_keys["project"] = project.c.iati_identifier
    order = [sums.c.is_total, *(sort_keys[name].asc().nulls_last() for name in group_by)]
    return select(*columns).select_from(source).order_by(*order)


async def report_rows(
    session: AsyncSession, group_by: Sequence[str], ledger: LedgerFilter
) -> list[dict[str, Any]]:
    result = await session.execute(statement_for(group_by, ledger))
    return [dict(row) for row in result.mappings()]
