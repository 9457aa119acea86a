"""The statistics query builder: one SQL statement per request, grouped in PostgreSQL.

Ledger measures sum the facts the funding report sums (reports/facts.py: agreements, or
transactions of one type), so `/stats` and `/reports/funding` cannot disagree. Payment
measures read the payment lines of built payrolls:

    SELECT region, period, sum(value) | count(*), grouping(region) AS is_total
    FROM (SELECT line.region_code AS region, line.period AS period, <DJF amount> AS value
          FROM payment_line AS line JOIN payment_cycle AS cycle ON cycle.id = line.cycle_id
          WHERE cycle.build_status = 'built' AND <filters>) AS fact
    GROUP BY GROUPING SETS ((region, period), ())

- The lines are read once and joined to a handful of payrolls (and their agreements when
  partner or project is asked for) by hash: one pass, whatever the number of lines.
- Dimensions are computed in the inner select and grouped on in the outer one (grouping on
  an expression with bound parameters would not match its select-list twin).
- Partners and projects are grouped on by id and named (IATI identifiers) on the grouped
  rows only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import Agreement, Organisation, PaymentCycle, PaymentLine, Project
from services.funding.reports.facts import (
    LedgerFilter,
    agreement_facts,
    grouped,
    to_djf,
    transaction_facts,
)
from services.funding.stats.catalog import MEASURES
from services.funding.vocabulary import DJF

_line = PaymentLine.__table__
_cycle = PaymentCycle.__table__
_agreement = Agreement.__table__
_organisation = Organisation.__table__
_project = Project.__table__


@dataclass(frozen=True)
class StatsSpec:
    """A validated statistics request; partners and projects as the ids they name."""

    measure: str
    group_by: tuple[str, ...]
    as_of: date
    filters: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass
class StatsFigures:
    rows: list[dict[str, Any]]
    total: int
    # Payment measures: the lines each row (`units` in it) and the total hold, which small-cell
    # protection decides on; None for ledger measures, which count no people.
    total_units: int | None = None


async def figures(session: AsyncSession, spec: StatsSpec) -> StatsFigures:
    result = await session.execute(statement_for(spec))
    payment = MEASURES[spec.measure].family == "payment"
    rows: list[dict[str, Any]] = []
    total = 0
    total_units = None
    for row in result.mappings():
        units = {"units": int(row["units"])} if payment else {}
        if row["is_total"]:
            total = int(row["value"])
            total_units = units.get("units")
            if not spec.group_by:
                rows.append({"value": total, **units})
            continue
        values = {name: row[name] for name in spec.group_by}
        rows.append({**values, "value": int(row["value"]), **units})
    return StatsFigures(rows, total, total_units)


def statement_for(spec: StatsSpec) -> Select[Any]:
    """The one statement answering `spec` (public so tests and benchmarks can EXPLAIN it)."""
    if MEASURES[spec.measure].family == "ledger":
        facts, value = _ledger_facts(spec)
        sums = grouped(facts, spec.group_by, [value])
        return _named(sums.subquery("grouped"), spec.group_by, value)
    facts = _payment_facts(spec).subquery("fact")
    lines = func.count().label("units")
    if spec.measure == "payment_lines":
        tally: ColumnElement[Any] = func.count()
    else:
        tally = func.coalesce(func.sum(facts.c.value), 0)
    if not spec.group_by:
        sums = select(tally.label("value"), lines, literal(True).label("is_total")).select_from(
            facts
        )
    else:
        dimensions = [facts.c[name] for name in spec.group_by]
        sums = (
            select(
                *dimensions,
                tally.label("value"),
                lines,
                (func.grouping(dimensions[0]) == 1).label("is_total"),
            )
            .select_from(facts)
            .group_by(func.grouping_sets(tuple_(*dimensions), tuple_()))
        )
    return _named(sums.subquery("grouped"), spec.group_by, "value", units="units")


def _ledger_facts(spec: StatsSpec) -> tuple[Any, str]:
    ledger = LedgerFilter(
        partner_ids=tuple(spec.filters.get("partner", ())),
        project_ids=tuple(spec.filters.get("project", ())),
        years=tuple(spec.filters.get("year", ())),
        currencies=tuple(spec.filters.get("currency", ())),
        as_of=spec.as_of,
    )
    base, _, usd = spec.measure.partition("_")
    column = f"{base}_{'usd' if usd else 'djf'}"
    statement = (
        agreement_facts(ledger) if base == "committed" else transaction_facts(ledger, [base])
    )
    return statement.subquery("fact"), column


def _payment_facts(spec: StatsSpec) -> Select[Any]:
    line, cycle = _line.alias("line"), _cycle.alias("cycle")
    used = set(spec.group_by) | set(spec.filters)
    source: Any = line.join(cycle, cycle.c.id == line.c.cycle_id)
    expressions: dict[str, ColumnElement[Any]] = {
        "programme": line.c.programme_code,
        "region": line.c.region_code,
        "period": line.c.period,
        "line_status": line.c.status,
        "year": _period_year(line.c.period),
        "currency": line.c.currency,
    }
    if used & {"partner", "project"}:
        agreement = _agreement.alias("agreement")
        source = source.join(agreement, agreement.c.id == cycle.c.agreement_id)
        expressions["partner"] = agreement.c.funder_id
        expressions["project"] = agreement.c.project_id
    columns = [expressions[name].label(name) for name in spec.group_by]
    if spec.measure == "payment_amount":
        in_djf = case(
            (line.c.currency == DJF, line.c.amount_minor),
            else_=to_djf(line.c.amount_minor, line.c.currency, cycle.c.cycle_rate_to_djf),
        )
        columns.append(in_djf.label("value"))
    conditions = [cycle.c.build_status == "built"]
    conditions += [expressions[name].in_(values) for name, values in spec.filters.items()]
    if not columns:
        columns = [literal(1).label("one")]
    return select(*columns).select_from(source).where(*conditions)


def _period_year(period: ColumnElement[Any]) -> ColumnElement[Any]:
    return case(
        (period.regexp_match("^[0-9]{4}"), cast(func.substr(period, 1, 4), Integer)),
        else_=None,
    )


def _named(sums: Any, group_by: Sequence[str], value: str, units: str | None = None) -> Select[Any]:
    """The grouped rows with partners and projects named by their IATI identifiers (and
    the units counted in each, when `units` names that column)."""
    source: Any = sums
    outputs: list[Any] = []
    for name in group_by:
        if name == "partner":
            organisation = _organisation.alias("partner_org")
            source = source.outerjoin(organisation, organisation.c.id == sums.c.partner)
            outputs.append(organisation.c.iati_identifier.label("partner"))
        elif name == "project":
            project = _project.alias("project_row")
            source = source.outerjoin(project, project.c.id == sums.c.project)
            outputs.append(project.c.iati_identifier.label("project"))
        else:
            outputs.append(sums.c[name].label(name))
    order = [sums.c.is_total, *(output.asc().nulls_last() for output in outputs)]
    return (
        select(
            *outputs,
            sums.c[value].label("value"),
            *((sums.c[units].label("units"),) if units else ()),
            sums.c.is_total,
        )
        .select_from(source)
        .order_by(*order)
    )


# -- reference values -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    value: str
    label: str
    id: uuid.UUID | None = None


async def organisations(
    session: AsyncSession, identifiers: Sequence[str] | None = None
) -> list[Reference]:
    """Organisations by IATI identifier (all of them, or those of `identifiers`)."""
    statement = select(
        _organisation.c.iati_identifier, _organisation.c.name_en, _organisation.c.id
    ).order_by(_organisation.c.iati_identifier)
    if identifiers is not None:
        statement = statement.where(_organisation.c.iati_identifier.in_(identifiers))
    return [Reference(*row) for row in await session.execute(statement)]


async def projects(
    session: AsyncSession, identifiers: Sequence[str] | None = None
) -> list[Reference]:
    statement = select(_project.c.iati_identifier, _project.c.title_en, _project.c.id).order_by(
        _project.c.iati_identifier
    )
    if identifiers is not None:
        statement = statement.where(_project.c.iati_identifier.in_(identifiers))
    return [Reference(*row) for row in await session.execute(statement)]


async def programme_codes(session: AsyncSession) -> list[str]:
    """The programmes the ledger knows: those projects finance and those payrolls pay."""
    financed = select(func.unnest(_project.c.programme_codes).label("code"))
    paid = select(_cycle.c.programme_code.label("code")).distinct()
    codes = union(financed, paid).subquery("programme")
    return list(await session.scalars(select(codes.c.code).order_by(codes.c.code)))
