"""The funding report: the caller's scope, the checks of the ids asked for, and the rows the
one statement returns turned into amounts and rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.access import partner_scope
from services.funding.organisations import repository as organisations
from services.funding.projects import repository as projects
from services.funding.reports import repository
from services.funding.reports.facts import LedgerFilter, column
from services.funding.reports.schemas import (
    Amounts,
    FundingReport,
    PartnerRef,
    ProjectRef,
    Ratio,
    ReportQuery,
    ReportRow,
)
from services.funding.vocabulary import DJF, USD
from shared.auth import Principal
from shared.clock import today
from shared.errors import Forbidden, UnprocessableEntity
from shared.money import Money

NO_COMMITMENT = "nothing committed in this group: no rate"
RATE_DIGITS = 4
RATE_SCALE = 10**RATE_DIGITS


async def funding_report(
    session: AsyncSession, query: ReportQuery, principal: Principal
) -> FundingReport:
    scope = partner_scope(principal)
    await _check_ids(session, query)
    if scope is not None:
        await _check_partner_filter(session, query, scope)
    ledger = LedgerFilter(
        partner_ids=tuple(query.partner),
        project_ids=tuple(query.project),
        years=tuple(query.year),
        currencies=tuple(query.currency),
        scope=scope,
        rates_on=today(),
    )
    group_by = list(query.group_by)
    records = await repository.report_rows(session, group_by, ledger)
    with_available = "year" not in group_by and not query.year
    with_currency = "currency" in group_by
    rows: list[ReportRow] = []
    total: ReportRow | None = None
    for record in records:
        row = _row(record, group_by, with_available, with_currency)
        if record["is_total"]:
            total = row
        else:
            rows.append(row)
    assert total is not None, "GROUPING SETS always give the total"
    return FundingReport(
        group_by=group_by,
        filters=_applied(query, scope),
        generated_at=datetime.now(UTC),
        rates_on=ledger.rates_on,
        rows=rows,
        total=total,
    )


async def _check_ids(session: AsyncSession, query: ReportQuery) -> None:
    """An id that names nothing is a 422, not a plausible zero."""
    errors = []
    for name, kind, ids, existing in (
        ("partner", "organisation", query.partner, organisations.existing),
        ("project", "project", query.project, projects.existing),
    ):
        found = await existing(session, ids)
        unknown = [str(value) for value in ids if value not in found]
        if unknown:
            errors.append(
                {"path": f"query.{name}", "message": f"no such {kind}: " + ", ".join(unknown)}
            )
    if errors:
        raise UnprocessableEntity("Unknown ids in the filters.", errors=errors)


async def _check_partner_filter(session: AsyncSession, query: ReportQuery, scope: str) -> None:
    """A partner reads its own organisation's figures: asking for another's is refused
    (a zero would read as "they gave nothing")."""
    own = await organisations.organisation_of_partner(session, scope) if scope else None
    if any(value != own for value in query.partner):
        raise Forbidden("Your account may read only its own organisation's figures.")


def _applied(query: ReportQuery, scope: str | None) -> dict[str, list[Any]]:
    applied: dict[str, list[Any]] = {}
    for name in ("year", "partner", "project", "currency"):
        values = getattr(query, name)
        if values:
            as_text = name in ("partner", "project")
            applied[name] = [str(value) if as_text else value for value in values]
    if scope is not None:
        applied["partner_scope"] = [scope]
    return applied


def _row(
    record: dict[str, Any], group_by: list[str], with_available: bool, with_currency: bool
) -> ReportRow:
    own_currency = record.get("currency") if with_currency else None

    def amounts(measure: str) -> Amounts:
        figures: dict[str, Any] = {
            "djf": Money(int(record[column(measure, "djf")]), DJF),
            "usd": Money(int(record[column(measure, "usd")]), USD),
        }
        if own_currency is not None:
            figures["in_currency"] = Money(int(record[column(measure, "own")]), own_currency)
        return Amounts(**figures)

    fields: dict[str, Any] = {
        "committed": amounts("committed"),
        "received": amounts("received"),
        "disbursed": amounts("disbursed"),
        "paid": amounts("paid"),
        "available": amounts("available") if with_available else None,
        "disbursement_rate": disbursement_rate(
            int(record["disbursed_djf"]), int(record["committed_djf"])
        ),
    }
    if not record["is_total"]:
        for name in group_by:
            fields[name] = _dimension(record, name)
    return ReportRow(**fields)


def _dimension(record: dict[str, Any], name: str) -> Any:
    value = record[name]
    if value is None or name in ("year", "currency"):
        return value
    if name == "partner":
        return PartnerRef(
            id=value,
            iati_identifier=record["partner_iati_identifier"],
            name_fr=record["partner_name_fr"],
            name_en=record["partner_name_en"],
        )
    return ProjectRef(
        id=value,
        iati_identifier=record["project_iati_identifier"],
        title_fr=record["project_title_fr"],
        title_en=record["project_title_en"],
    )


def disbursement_rate(disbursed_djf: int, committed_djf: int) -> Ratio:
    """Disbursed / committed, both summed over the group in DJF first (a ratio of sums, not
    a sum or mean of ratios), to 4 places rounded half up; no commitment: no rate."""
    if committed_djf == 0:
        return Ratio(value=None, reason=NO_COMMITMENT)
    scaled = 2 * abs(disbursed_djf) * RATE_SCALE
    places = (scaled + committed_djf) // (2 * committed_djf)  # exact: half up, in integers
    sign = -1 if disbursed_djf < 0 else 1
    return Ratio(value=str(Decimal(sign * places).scaleb(-RATE_DIGITS)), reason=None)
